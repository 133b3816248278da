import { readFile } from "node:fs/promises";
import { expect, type Page, test } from "@playwright/test";
import { importPipeline } from "./run-support";
import { PASSWORD, signUp } from "./support";

// Issue 15's Done-when, driven as two new users would, each in a browser of their own: Ada makes a pipeline and runs
// it, and invites Bea by link as a viewer. Bea signs up from the link, joins, sees Ada's pipeline and run with the
// edit and run controls disabled (each saying why), and the API refuses her edit. Ada makes her an editor: Bea edits,
// saves, stops Ada's run and starts one of her own. Ada removes her: Bea's next request is refused.
// Then the audit log shows all of it in order, and its export holds it.

const ENDLESS = `apiVersion: sluice/v1
kind: Pipeline
metadata:
  name: team-orders
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

const VIEWER_EDIT = "Viewers cannot edit pipelines; ask an admin for the editor role.";
const VIEWER_RUNS = "Viewers cannot start, stop, pause or resume runs; ask an admin for the editor role.";

/** A tRPC mutation through the app's endpoint with the page's cookies, addressing `workspaceId`. */
function mutate(page: Page, path: string, workspaceId: string, input: unknown) {
  return page.request.post(`/api/trpc/${path}`, {
    headers: { "content-type": "application/json", "x-sluice-workspace": workspaceId },
    data: JSON.stringify({ json: input }),
  });
}

async function openMembers(page: Page): Promise<void> {
  await page.getByTestId("current-workspace").click();
  await page.getByRole("link", { name: "Members and settings" }).click();
  await expect(page).toHaveURL(/\/workspace$/);
}

test("a viewer invited by link reads but cannot change; made editor, edits and runs; removed, is refused", async ({
  browser,
  baseURL,
  page: ada,
}) => {
  test.setTimeout(240_000);
  await signUp(ada, "Ada Owner", "e2e-team");
  const name = `Team orders ${Date.now()}`;
  const editorUrl = await importPipeline(ada, name, ENDLESS);
  const pipelineId = new URL(editorUrl).pathname.split("/").pop() ?? "";
  await ada.getByRole("button", { name: "Start" }).click();
  await expect(ada.getByTestId("run-status")).toHaveText("running", { timeout: 30_000 });

  // Ada invites by link, as a viewer: the link is shown once, and the invitation waits in the list.
  await expect(ada.getByTestId("current-workspace")).toContainText("Ada Owner's workspace");
  await expect(ada.getByTestId("current-workspace")).toContainText("owner");
  await openMembers(ada);
  const invite = ada.getByRole("form", { name: "Invite someone" });
  await expect(invite.getByLabel("Role")).toHaveValue("VIEWER");
  await invite.getByRole("button", { name: "Create invitation link" }).click();
  const link = await ada.getByLabel("Invitation link").inputValue();
  expect(link).toMatch(/\/invite\/[A-Za-z0-9_-]{43}$/);
  await expect(ada.getByRole("table", { name: "Pending invitations" })).toContainText("anyone with the link");

  // Bea opens the link in her own browser, signs up from it, comes back to it and joins.
  const beaContext = await browser.newContext({ baseURL, viewport: { width: 1440, height: 900 } });
  const bea = await beaContext.newPage();
  await bea.goto(new URL(link).pathname);
  await expect(bea.getByRole("heading", { name: "Join Ada Owner's workspace" })).toBeVisible();
  await expect(bea.getByTestId("invitation-summary")).toHaveText(
    "Ada Owner invites you to the workspace Ada Owner's workspace as a viewer.",
  );
  await bea.getByRole("link", { name: "Create an account to join" }).click();
  const beaEmail = `e2e-team-bea-${Date.now()}@example.com`;
  await bea.getByLabel("Name").fill("Bea Viewer");
  await bea.getByLabel("Email").fill(beaEmail);
  await bea.getByLabel("Password").fill(PASSWORD);
  await bea.getByRole("button", { name: "Create account" }).click();
  await expect(bea).toHaveURL(/\/invite\/[A-Za-z0-9_-]{43}$/);
  await bea.getByRole("button", { name: "Join Ada Owner's workspace" }).click();
  await expect(bea).toHaveURL(/\/pipelines$/);
  await expect(bea.getByTestId("current-workspace")).toContainText("Ada Owner's workspace");
  await expect(bea.getByTestId("current-workspace")).toContainText("viewer");
  const workspaceId = (await beaContext.cookies()).find((c) => c.name === "sluice_workspace")?.value ?? "";
  expect(workspaceId).not.toBe("");

  // The link worked once: opened again, it says so.
  await bea.goto(new URL(link).pathname);
  await expect(
    bea.getByText("This invitation was already used: each link works once. Ask for a new one."),
  ).toBeVisible();

  // Bea sees Ada's pipeline, with the controls that would change it disabled and saying why.
  await bea.goto("/pipelines");
  await expect(bea.getByRole("link", { name, exact: true })).toBeVisible();
  const newPipeline = bea.getByRole("button", { name: "New pipeline" });
  await expect(newPipeline).toBeDisabled();
  await expect(newPipeline).toHaveAttribute("title", VIEWER_EDIT);
  await expect(bea.getByRole("button", { name: `Delete ${name}` })).toBeDisabled();
  await bea.getByRole("link", { name, exact: true }).click();
  await expect(bea.getByRole("heading", { name, exact: true })).toBeVisible();
  await expect(bea.getByTestId("read-only-notice")).toContainText(VIEWER_EDIT);
  await expect(bea.getByTestId("run-status")).toHaveText("running");
  const stop = bea.getByRole("button", { name: "Stop" });
  await expect(stop).toBeDisabled();
  await expect(stop).toHaveAttribute("title", VIEWER_RUNS);
  await expect(bea.getByRole("button", { name: "Pause" })).toBeDisabled();
  await expect(bea.getByRole("button", { name: "Save", exact: true })).toHaveAttribute("title", VIEWER_EDIT);
  await expect(bea.getByRole("complementary", { name: "Node palette" }).getByRole("button").first()).toBeDisabled();
  // She can select a node and read its settings, not change them.
  await bea.getByTestId("node-gen").click();
  const rate = bea.getByRole("complementary", { name: "Inspector" }).getByLabel("Rate (records/s)");
  await expect(rate).toHaveValue("20");
  await expect(rate).toBeDisabled();

  // Her runs page shows Ada's run, and the run's page its controls, disabled.
  await bea.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Runs" }).click();
  await bea.getByRole("table", { name: "Runs" }).getByRole("link").first().click();
  await expect(bea).toHaveURL(/\/runs\/[^/]+$/);
  await expect(bea.getByRole("button", { name: "Stop run" })).toBeDisabled();
  await expect(bea.getByRole("button", { name: "Stop run" })).toHaveAttribute("title", VIEWER_RUNS);

  // The API refuses her edit, whatever the page shows.
  const refused = await mutate(bea, "pipelines.rename", workspaceId, { id: pipelineId, name: "Renamed by Bea" });
  expect(refused.status()).toBe(403);
  expect(JSON.stringify(await refused.json())).toContain(
    "this needs the editor role in this workspace; yours is viewer",
  );

  // Ada makes Bea an editor.
  await ada.reload();
  const members = ada.getByRole("table", { name: "Members" });
  await expect(members).toContainText(beaEmail);
  await members.getByLabel("Role of Bea Viewer").selectOption("EDITOR");
  await expect(members.getByLabel("Role of Bea Viewer")).toHaveValue("EDITOR");

  // Bea, on her next page load, edits and saves, stops Ada's run and starts one.
  await bea.goto(`/pipelines/${pipelineId}`);
  await expect(bea.getByRole("heading", { name, exact: true })).toBeVisible();
  await expect(bea.getByTestId("current-workspace")).toContainText("editor");
  await expect(bea.getByTestId("read-only-notice")).toHaveCount(0);
  await bea.getByTestId("node-gen").click();
  await bea.getByRole("complementary", { name: "Inspector" }).getByLabel("Rate (records/s)").fill("30");
  await expect(bea.getByTestId("dirty")).toBeVisible();
  await bea.getByRole("button", { name: "Save", exact: true }).click();
  await expect(bea.getByText("v2", { exact: true })).toBeVisible();
  await bea.getByRole("button", { name: "Stop" }).click();
  await expect(bea.getByTestId("run-status")).toHaveText("stopped", { timeout: 60_000 });
  await bea.getByRole("button", { name: "Start" }).click();
  await expect(bea.getByTestId("run-status")).toHaveText("running", { timeout: 30_000 });

  // Ada removes Bea.
  await ada.reload();
  await members.getByRole("button", { name: "Remove Bea Viewer" }).click();
  const confirm = ada.getByRole("alertdialog", { name: "Remove Bea Viewer from the workspace?" });
  await confirm.getByRole("button", { name: "Remove member" }).click();
  await expect(confirm).toBeHidden();
  await expect(members).not.toContainText(beaEmail);

  // Bea's next request is refused: the API says so, and the page she has open tells her.
  const afterRemoval = await mutate(bea, "runs.stop", workspaceId, { runId: "any" });
  expect(afterRemoval.status()).toBe(403);
  expect(JSON.stringify(await afterRemoval.json())).toContain("you are not a member of that workspace");
  await bea.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Pipelines" }).click();
  await expect(bea.getByTestId("membership-ended")).toBeVisible();
  await expect(bea.getByTestId("membership-ended")).toContainText("You are no longer a member of this workspace");
  // Reloaded, she is back in her own workspace, where Ada's pipeline is not.
  await bea.reload();
  await expect(bea.getByTestId("current-workspace")).toContainText("Bea Viewer's workspace");
  await expect(bea.getByRole("link", { name, exact: true })).toHaveCount(0);

  // Ada stops Bea's run, leaving nothing going.
  await ada.goto(`/pipelines/${pipelineId}`);
  await ada.getByRole("button", { name: "Stop" }).click();
  await expect(ada.getByTestId("run-status")).toHaveText("stopped", { timeout: 60_000 });
  await beaContext.close();

  // The audit log, from the workspace's settings, shows each of those actions in order and who did them; its CSV
  // export holds them, oldest first.
  await ada.goto("/workspace");
  await ada.getByRole("link", { name: "Audit log" }).click();
  await expect(ada).toHaveURL(/\/audit$/);
  const log = ada.getByRole("table", { name: "Audit log" });
  await expect(log).toContainText("members.remove");
  const expected = [
    "invitations.create",
    "invitations.accept",
    "members.setRole",
    "pipelines.saveVersion",
    "runs.stop",
    "runs.start",
    "members.remove",
    "runs.stop",
  ];
  const shown = (await log.locator("tbody tr .mono").allTextContents()).reverse();
  expect(inOrder(shown, expected), shown.join(" ")).toBe(true);
  const accepted = log.locator("tbody tr", { hasText: "invitations.accept" });
  await expect(accepted).toContainText(beaEmail);
  await expect(accepted).toContainText("role: VIEWER");
  await expect(log.locator("tbody tr", { hasText: "members.setRole" })).toContainText("role: EDITOR");

  const [download] = await Promise.all([
    ada.waitForEvent("download"),
    ada.getByRole("link", { name: "Export CSV" }).click(),
  ]);
  const csv = await readFile((await download.path())!, "utf8");
  const lines = csv.trim().split("\r\n");
  const action = lines[0]!.split(",").indexOf("action");
  expect(action).toBeGreaterThanOrEqual(0);
  const exported = lines.slice(1).map((line) => line.split(",")[action]!);
  expect(inOrder(exported, expected), exported.join(" ")).toBe(true);
});

/** Whether `wanted` appears in `list` in this order (other entries may come between). */
function inOrder(list: readonly string[], wanted: readonly string[]): boolean {
  let at = 0;
  for (const item of list) if (item === wanted[at]) at++;
  return at === wanted.length;
}
