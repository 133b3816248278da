import { expect, test } from "@playwright/test";
import { createPipeline, signUp } from "./support";

// A personal API token made from the browser and used as a script would: shown once with a copy button, listed with
// its prefix and when it was last used, able to list but not to change with the read scope, and refused with the
// very next request once revoked on the page.

test("a read token made on the tokens page lists pipelines, cannot change them, and dies when revoked", async ({
  page,
}) => {
  await signUp(page, "Tess Token");
  const name = `Token target ${Date.now()}`;
  await createPipeline(page, name);

  await page.getByRole("link", { name: "API tokens" }).click();
  await expect(page.getByRole("heading", { name: "Your API tokens" })).toBeVisible();
  await expect(page.getByText("No personal tokens yet.")).toBeVisible();
  const form = page.getByRole("form", { name: "New API token" });
  await form.getByLabel("Name").fill("nightly export");
  await form.getByRole("button", { name: "Create token" }).click();
  const secret = (await page.getByTestId("new-token-secret").textContent()) ?? "";
  expect(secret).toMatch(/^slu_[A-Za-z0-9_-]{43}$/);
  await expect(page.getByText("Copy it now: it is shown once.")).toBeVisible();
  const row = page.getByTestId("token-nightly export");
  await expect(row).toContainText(`${secret.slice(0, 12)}…`);
  await expect(row).toContainText("read");
  await expect(row).toContainText("never");
  await expect(row).not.toContainText(secret);

  const call = (path: string, init: { input?: unknown; mutation?: boolean } = {}) => {
    const headers = { authorization: `Bearer ${secret}`, "content-type": "application/json" };
    // The endpoint speaks superjson; plain JSON values travel as `{ json: … }`.
    const body = JSON.stringify({ json: init.input ?? {} });
    return init.mutation
      ? page.request.post(`/api/trpc/${path}`, { headers, data: body })
      : page.request.get(`/api/trpc/${path}?input=${encodeURIComponent(body)}`, { headers });
  };
  const listed = await call("pipelines.list");
  expect(listed.status()).toBe(200);
  expect(JSON.stringify(await listed.json())).toContain(name);
  const create = await call("pipelines.create", { input: { name: "made by a token" }, mutation: true });
  expect(create.status()).toBe(403);
  expect(JSON.stringify(await create.json())).toContain('the \\"write\\" scope');

  // The page shows the use once it is read again.
  await page.reload();
  await expect(page.getByTestId("new-token-secret")).toHaveCount(0);
  await expect(row).not.toContainText("never");

  await row.getByRole("button", { name: "Revoke nightly export" }).click();
  await page
    .getByRole("alertdialog", { name: "Revoke “nightly export”?" })
    .getByRole("button", { name: "Revoke" })
    .click();
  await expect(row).toContainText("revoked");
  const refused = await call("pipelines.list");
  expect(refused.status()).toBe(401);
  expect(JSON.stringify(await refused.json())).toContain("this API token was revoked at");
});
