import { expect, test } from "@playwright/test";

// A password guesser against the built app (`next build` + `next start`, where the API's modules are bundled): past
// the per-email limit (the default, 10 in 15 minutes; the e2e stack raises only the per-address ones) the answer is a
// 429 with Retry-After saying how long to wait, and the sign-in form shows that sentence, not a Redis outage.

const REFUSED =
  /^too many sign-in attempts for this email: at most 10 in 15 minutes; try again in \d+ (seconds|minutes)$/;

test("sign-in guesses past the per-email limit are refused with 429, and the form says when to try again", async ({
  page,
}) => {
  const email = `e2e-guessed-${Date.now()}-${Math.random().toString(36).slice(2, 8)}@example.com`;
  const guess = (n: number) =>
    page.request.post("/api/trpc/auth.signIn", {
      data: { json: { email, password: `wrong guess number ${n}` } },
      failOnStatusCode: false,
    });

  for (let n = 1; n <= 10; n++) {
    const answer = await guess(n);
    expect(answer.status(), `guess ${n}`).toBe(401);
  }

  const refused = await guess(11);
  expect(refused.status()).toBe(429);
  const seconds = Number(refused.headers()["retry-after"]);
  expect(Number.isInteger(seconds) && seconds >= 1 && seconds <= 15 * 60, `Retry-After ${seconds}`).toBe(true);
  const body = (await refused.json()) as { error: { json: { message: string; data: { code: string } } } };
  expect(body.error.json.data.code).toBe("TOO_MANY_REQUESTS");
  expect(body.error.json.message).toMatch(REFUSED);

  // The same guess through the form, as a person would make it.
  await page.goto("/signin");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill("one more wrong guess");
  const answered = page.waitForResponse((r) => new URL(r.url()).pathname.startsWith("/api/trpc/auth.signIn"));
  await page.getByRole("button", { name: "Sign in" }).click();
  expect((await answered).status()).toBe(429);
  const alert = page.locator("form [role=alert]");
  await expect(alert).toHaveText(
    /^Too many sign-in attempts for this email: at most 10 in 15 minutes; try again in \d+ (seconds|minutes)$/,
  );
  await expect(alert).not.toContainText("Redis");
  await expect(page).toHaveURL(/\/signin$/);
});
