import { expect, test } from "@playwright/test";

// Issue 12, finding 10: a page of the built app carries its security headers, and the scripts Next renders carry
// the nonce its policy names, so the app still runs under a CSP without 'unsafe-eval' (the page below works).

test("pages carry a nonce CSP that forbids framing, and the app runs under it", async ({ page }) => {
  const refused: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error" && /Content.Security.Policy/i.test(message.text())) refused.push(message.text());
  });
  const response = await page.goto("/signin");
  expect(response?.status()).toBe(200);
  const headers = response?.headers() ?? {};
  const csp = headers["content-security-policy"] ?? "";
  expect(csp).toContain("frame-ancestors 'none'");
  expect(csp).not.toContain("unsafe-eval");
  const nonce = /'nonce-([^']+)'/.exec(csp)?.[1];
  expect(nonce).toBeTruthy();
  expect(headers["x-frame-options"]).toBe("DENY");
  expect(headers["x-content-type-options"]).toBe("nosniff");
  expect(headers["referrer-policy"]).toBe("strict-origin-when-cross-origin");

  // Every script element Next rendered carries this view's nonce, and the page hydrated: the form answers input.
  const scripts = await page
    .locator("script")
    .evaluateAll((nodes) => nodes.map((n) => (n as { nonce?: string }).nonce ?? ""));
  expect(scripts.length).toBeGreaterThan(0);
  expect(scripts.every((n) => n === nonce)).toBe(true);
  // Hydrated and allowed to call the API: a wrong password comes back as the server's sentence.
  await page.getByLabel("Email").fill("nobody@example.com");
  await page.getByLabel("Password").fill("not the right password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.locator("form [role=alert]")).toHaveText("The email or the password is wrong");
  expect(refused).toEqual([]);

  // A second view gets a nonce of its own.
  const again = await page.request.get("/signin");
  expect(again.headers()["content-security-policy"]).not.toContain(`'nonce-${nonce}'`);
});
