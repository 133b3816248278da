import { expect, test } from "@playwright/test";
import { importPipeline, startAndOpenRun } from "./run-support";
import { PASSWORD, signUp } from "./support";

// The run page as a new user meets it: every node listed in pipeline order with its figures (zeros included), the
// true number of dead letters with pages through all of them and a Discard all that means all, a paused run resumed
// and stopped from the page; and a sign-in that comes back to the page that asked for it.

// Written out of order on purpose: the page lists gen, fail, out. Every record fails in `fail` (a division by
// zero), so `out` receives nothing and the run ends with 2,787 dead letters.
const FAILING = `apiVersion: sluice/v1
kind: Pipeline
metadata:
  name: failing-division
spec:
  settings:
    delivery: at-least-once
  nodes:
    - id: out
      type: sink.console
      config: {}
    - id: fail
      type: transform.map
      config:
        set:
          bad: id / (id - id)
    - id: gen
      type: source.generator
      config:
        count: 2787
        rate: 0
        fields:
          id: { kind: sequence }
  edges:
    - { from: gen, to: fail }
    - { from: fail, to: out }
`;

const ENDLESS = `apiVersion: sluice/v1
kind: Pipeline
metadata:
  name: endless
spec:
  settings:
    delivery: at-least-once
  nodes:
    - id: gen
      type: source.generator
      config:
        rate: 20
    - id: out
      type: sink.console
      config: {}
  edges:
    - { from: gen, to: out }
`;

test("a finished run lists every node in pipeline order and pages through all its dead letters", async ({ page }) => {
  test.setTimeout(180_000);
  await signUp(page, "Dora Deadletter");
  await importPipeline(page, `Failing division ${Date.now()}`, FAILING);
  await startAndOpenRun(page);
  await expect(page.getByTestId("run-status")).toHaveText("Completed", { timeout: 90_000 });

  // Every node, sources first, the one that received nothing included, in the same order on every load.
  const names = page.locator(".counter-table tbody th");
  await expect(names).toHaveText(["gen", "fail", "out"]);
  await expect(page.getByTestId("counters-out").locator("td")).toHaveText(["0", "0", "0"]);
  await expect(page.getByTestId("counters-fail").locator("td")).toHaveText(["2,787", "0", "2,787"]);
  await page.reload();
  await expect(names).toHaveText(["gen", "fail", "out"]);

  // The true count, and pages that go on past the first 100.
  await expect(page.getByTestId("dead-letter-count")).toHaveText("2,787");
  const range = page.getByTestId("dead-letter-range");
  await expect(range).toHaveText("2,787 dead letters · showing 1–100");
  await expect(page.getByTestId("dead-letter")).toHaveCount(100);
  const firstOfPage1 = await page.getByTestId("dead-letter").first().textContent();
  // The run's log has its own Older and Newer: these are the dead letters' section's.
  const deadLetters = page.getByRole("region", { name: "Dead letters" });
  await deadLetters.getByRole("button", { name: "Older" }).click();
  await expect(range).toHaveText("2,787 dead letters · showing 101–200");
  await expect(page.getByTestId("dead-letter").first()).not.toHaveText(firstOfPage1 ?? "");
  await deadLetters.getByRole("button", { name: "Newer" }).click();
  await expect(range).toHaveText("2,787 dead letters · showing 1–100");
  await expect(page.getByTestId("dead-letter").first()).toHaveText(firstOfPage1 ?? "");
  // A dead letter's time is a time, not milliseconds.
  await expect(page.getByTestId("dead-letter").first().locator("td").last()).not.toHaveText(/^\d{10,}$/);

  // The run has ended, so nothing would take replayed letters in: Replay says why instead of pretending. Discard
  // takes every one, not a page, with a reason, and the run counts them.
  const replay = deadLetters.getByRole("button", { name: "Replay all (2,787)" });
  await expect(replay).toBeDisabled();
  await expect(replay).toHaveAttribute("title", /is completed.*Restart it from its last commit/);
  await deadLetters.getByRole("button", { name: "Discard all (2,787)…" }).click();
  const confirm = page.getByRole("dialog", { name: "Discard dead letters" });
  await confirm.getByLabel("Reason (kept on the run's timeline)").fill("division by zero is expected here");
  await confirm.getByRole("button", { name: "Discard" }).click();
  await expect(page.getByText("2,787 dead letters discarded.")).toBeVisible();
  await expect(page.getByTestId("dead-letter-count")).toHaveText("0");
  await expect(page.getByTestId("dead-letter-discarded")).toHaveText("· 2,787 discarded");
});

test("a paused run is resumed and stopped from its page", async ({ page }) => {
  test.setTimeout(150_000);
  await signUp(page, "Paul Pause");
  await importPipeline(page, `Endless ${Date.now()}`, ENDLESS);
  await startAndOpenRun(page);
  const status = page.getByTestId("run-status");
  await expect(status).toHaveText("Running", { timeout: 30_000 });

  await page.getByRole("button", { name: "Pause" }).click();
  await expect(status).toHaveText("Paused", { timeout: 30_000 });
  await expect(page.getByRole("button", { name: "Stop run" })).toBeEnabled();
  await page.getByRole("button", { name: "Resume" }).click();
  await expect(status).toHaveText("Running", { timeout: 30_000 });

  await page.getByRole("button", { name: "Pause" }).click();
  await expect(status).toHaveText("Paused", { timeout: 30_000 });
  await page.getByRole("button", { name: "Stop run" }).click();
  await expect(status).toHaveText("Stopped", { timeout: 60_000 });
  await expect(page.getByRole("button", { name: "Restart (continue)" })).toBeVisible();
});

test("signing in from the runs page comes back to it, and the 404 page keeps the header", async ({ page }) => {
  const email = await signUp(page, "Rita Return");
  await page.goto("/no-such-page");
  await expect(page.getByRole("heading", { name: "Page not found" })).toBeVisible();
  await expect(page.getByTestId("user-name")).toHaveText("Rita Return");
  await expect(page.getByRole("link", { name: "Runs" }).first()).toBeVisible();

  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/signin$/);
  await page.goto("/runs");
  await expect(page).toHaveURL(/\/signin\?next=%2Fruns$/);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/runs$/);
  await expect(page.getByRole("heading", { name: "Runs", exact: true })).toBeVisible();

  // Somewhere else is not followed, however it is spelled (dot segments vanish when a path is parsed, which would
  // leave "//evil.example"): signed in already, the sign-in page sends the user home at once...
  const elsewhere = [
    "//evil.example/x",
    "/.//evil.example/x",
    "/..//evil.example",
    "/%2e%2e//evil.example",
    "/./\\evil.example",
  ];
  for (const next of elsewhere) {
    await page.goto(`/signin?next=${encodeURIComponent(next)}`);
    await expect(page, next).toHaveURL(/127\.0\.0\.1:\d+\/pipelines$/);
  }
  // ...and signed out, signing in there goes home too (two spellings: sign-ins per address are rate-limited).
  for (const next of ["/.//evil.example/x", "/%2e%2e//evil.example"]) {
    await page.getByRole("button", { name: "Sign out" }).click();
    await expect(page).toHaveURL(/\/signin$/);
    await page.goto(`/signin?next=${encodeURIComponent(next)}`);
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page, next).toHaveURL(/127\.0\.0\.1:\d+\/pipelines$/);
  }

  // Signed out, the 404 page still offers a way in.
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/signin$/);
  await page.goto("/no-such-page");
  await expect(page.getByRole("heading", { name: "Page not found" })).toBeVisible();
  await expect(page.getByRole("link", { name: "Sign in" })).toBeVisible();
});
