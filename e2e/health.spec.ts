import { expect, test } from "@playwright/test";

test("the health endpoint reports the database, Redis and a live worker", async ({ request }) => {
  const response = await request.get("/api/health");
  expect(response.status()).toBe(200);
  const body = await response.json();
  expect(body.status).toBe("ok");
  expect(body.db.ok).toBe(true);
  expect(body.redis.ok).toBe(true);
  expect(body.workers.live).toBeGreaterThanOrEqual(1);
});
