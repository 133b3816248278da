import { execFileSync } from "node:child_process";
import { expect, test } from "@playwright/test";
import { importPipeline } from "./run-support";
import { signUp } from "./support";

// A Webhook source used from the browser alone: its ingest URL is shown where the node is edited, an ingest token is
// created there (shown once, until dismissed, never after a reload; listed with when it was last used), the curl
// command the page offers to copy, run as it is, delivers records the running run counts, and a revoked token is
// refused at once.

const WEBHOOK = `apiVersion: sluice/v1
kind: Pipeline
metadata:
  name: orders-webhook
spec:
  settings:
    delivery: at-least-once
  nodes:
    - id: orders
      type: source.webhook
      config: {}
      ui: { x: 0, y: 0 }
    - id: out
      type: sink.console
      config: {}
      ui: { x: 400, y: 0 }
  edges:
    - { from: orders, to: out }
`;

test("a Webhook source's URL and token are shown, and a request to them delivers records", async ({ page }) => {
  test.setTimeout(120_000);
  await page.context().grantPermissions(["clipboard-read", "clipboard-write"]);
  await signUp(page, "Walt Webhook");
  const editor = await importPipeline(page, `Orders webhook ${Date.now()}`, WEBHOOK);
  const pipelineId = new URL(editor).pathname.split("/").pop();

  await page.getByTestId("node-orders").click();
  const inspector = page.getByRole("complementary", { name: "Inspector" });
  const url = inspector.getByTestId("ingest-url");
  await expect(url).toHaveText(`${new URL(editor).origin}/api/ingest/${pipelineId}`);
  await expect(inspector.getByTestId("ingest-token-state")).toContainText("No token works");

  await inspector.getByRole("button", { name: "Create token" }).click();
  const token = (await inspector.getByTestId("ingest-token").textContent()) ?? "";
  expect(token).toMatch(/^slu_/);
  await expect(inspector.getByText("Copy it now: it is shown once.")).toBeVisible();
  await expect(inspector.getByTestId("ingest-token-state")).toContainText("A token works");
  // Selecting another node and coming back does not lose it: it stays until dismissed.
  await page.getByTestId("node-out").click();
  await page.getByTestId("node-orders").click();
  await expect(inspector.getByTestId("ingest-token")).toHaveText(token);
  await inspector.getByText("Send records with curl").click();
  await expect(inspector.getByTestId("ingest-curl")).toContainText(`Authorization: Bearer ${token}`);
  await expect(inspector.getByTestId("ingest-curl")).toContainText(`/api/ingest/${pipelineId}`);

  await page.getByRole("button", { name: "Start" }).click();
  await expect(page.getByTestId("run-status")).toHaveText("running", { timeout: 30_000 });

  const ingestUrl = (await url.textContent()) ?? "";
  const refused = await page.request.post(ingestUrl, {
    headers: { authorization: "Bearer sluice_ing_wrong", "content-type": "application/x-ndjson" },
    data: '{"order_id":0}\n',
  });
  expect(refused.status()).toBe(401);
  // The command as copied, run by a shell: it must work as shown (curl prints the status it got last).
  await page.getByTestId("node-orders").click();
  await inspector.getByRole("button", { name: "Copy the curl command" }).click();
  type Clipboard = { navigator: { clipboard: { readText(): Promise<string> } } };
  const copied = await page.evaluate(() => (globalThis as unknown as Clipboard).navigator.clipboard.readText());
  expect(copied).toBe(await inspector.getByTestId("ingest-curl").textContent());
  const status = execFileSync("bash", ["-c", `${copied} -sS -o /dev/null -w '%{http_code}'`], { encoding: "utf8" });
  expect(status).toBe("202");
  await expect(page.getByTestId("count-out-in")).toHaveText("2", { timeout: 30_000 });

  // A reload forgets the token: it was shown once.
  await page.reload();
  await page.getByTestId("node-orders").click();
  await expect(inspector.getByTestId("ingest-token-state")).toContainText("A token works");
  await expect(inspector.getByTestId("ingest-token")).toHaveCount(0);
  await expect(inspector.getByRole("table", { name: "Ingest tokens" })).toContainText(token.slice(0, 12));
  await inspector.getByText("Send records with curl").click();
  await expect(inspector.getByTestId("ingest-curl")).not.toContainText(token);

  // Revoked, the token no longer works.
  await page.getByTestId("node-orders").click();
  await inspector.getByRole("button", { name: "Revoke Webhook" }).click();
  await page
    .getByRole("alertdialog", { name: "Revoke the ingest token?" })
    .getByRole("button", { name: "Revoke" })
    .click();
  await expect(inspector.getByTestId("ingest-token-state")).toContainText("No token works");
  const late = await page.request.post(ingestUrl, {
    headers: { authorization: `Bearer ${token}`, "content-type": "application/x-ndjson" },
    data: '{"order_id":3}\n',
  });
  expect(late.status()).toBe(401);
  await page.getByRole("button", { name: "Stop" }).click();
  await expect(page.getByTestId("run-status")).toHaveText("stopped", { timeout: 30_000 });
});
