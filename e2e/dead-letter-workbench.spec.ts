import { expect, test } from "@playwright/test";
import { importPipeline, startAndOpenRun } from "./run-support";
import { signUp } from "./support";

// The dead-letter workbench as a data engineer uses it on a running job: a map poisons five records (a price written
// with a decimal comma), their group shows with its count, one is inspected, the group is fixed with an expression
// after a preview and replayed into the running job, and the sink behind a filter receives exactly those five.

// Records with id < 5 get the price "12,5", which CAST cannot read; the others "7.5". Only amounts above 10 reach
// `out`, so what `out` receives is exactly the fixed records.
const POISONED = `apiVersion: sluice/v1
kind: Pipeline
metadata:
  name: decimal-commas
spec:
  settings:
    delivery: at-least-once
  nodes:
    - id: gen
      type: source.generator
      config:
        rate: 5
        fields:
          id: { kind: sequence }
    - id: price
      type: transform.map
      config:
        set:
          price: "CASE WHEN id < 5 THEN '12,5' ELSE '7.5' END"
    - id: amount
      type: transform.map
      config:
        set:
          amount: CAST(price AS double)
    - id: big
      type: transform.filter
      config:
        where: amount > 10
    - id: out
      type: sink.console
      config: {}
  edges:
    - { from: gen, to: price }
    - { from: price, to: amount }
    - { from: amount, to: big }
    - { from: big, to: out }
`;

test("poisoned records are grouped, inspected, fixed with an expression and replayed into the running job", async ({
  page,
}) => {
  test.setTimeout(180_000);
  await signUp(page, "Wanda Workbench");
  await importPipeline(page, `Decimal commas ${Date.now()}`, POISONED);
  await startAndOpenRun(page);
  await expect(page.getByTestId("run-status")).toHaveText("Running", { timeout: 30_000 });

  // One group for the five poisoned records: the node, the reason without the record's value, the count.
  const section = page.getByRole("region", { name: "Dead letters" });
  const group = section.getByTestId("dead-letter-group");
  await expect(group).toHaveCount(1, { timeout: 30_000 });
  await expect(group.locator("td").first()).toHaveText("amount");
  await expect(group.locator("td").nth(1)).toContainText("Cannot cast '…' to FLOAT");
  await expect(group.getByTestId("dead-letter-group-count")).toHaveText("5");
  await expect(page.getByTestId("dead-letter-count")).toHaveText("5");

  // Choosing the group filters the list; one letter inspected shows its whole record.
  await group.getByRole("button", { name: "Show" }).click();
  await expect(section.getByTestId("dead-letter-range")).toHaveText("5 dead letters in this group");
  await section.getByRole("button", { name: /^Inspect dead letter 1 / }).click();
  const inspector = page.getByRole("dialog", { name: "Dead letter" });
  await expect(inspector.getByTestId("dead-letter-record")).toContainText('"price": "12,5"');
  await expect(inspector).toContainText("amount");
  await inspector.getByRole("button", { name: "Close" }).click();

  // A wrong expression names its position; the right one is previewed, then applied and replayed.
  await section.getByRole("button", { name: "Fix group (5)…" }).click();
  const fix = page.getByRole("dialog", { name: "Fix with an expression" });
  const assignments = fix.getByLabel("Assignments");
  await assignments.fill("price = toNumber(price)");
  await fix.getByRole("button", { name: "Preview" }).click();
  await expect(fix.getByRole("alert")).toContainText("line 1, column 9");
  await expect(fix.getByRole("button", { name: "Apply and replay" })).toBeDisabled();
  await assignments.fill("price = replace(price, ',', '.')");
  await fix.getByRole("button", { name: "Preview" }).click();
  await expect(fix.getByTestId("fix-preview")).toContainText('"price": "12.5"');
  await fix.getByRole("button", { name: "Apply and replay" }).click();
  await expect(page.getByText("5 dead letters fixed and sent back for processing.")).toBeVisible();

  // The running job takes them in: the dead letters are gone and the sink behind the filter got exactly five.
  await expect(page.getByTestId("dead-letter-count")).toHaveText("0", { timeout: 30_000 });
  await expect(page.getByTestId("counters-out").locator("td").first()).toHaveText("5", { timeout: 30_000 });
  await expect(page.getByTestId("run-timeline")).toContainText("Wanda Workbench fixed 5 dead letters", {
    timeout: 15_000,
  });

  await page.getByRole("button", { name: "Stop run" }).click();
  await expect(page.getByTestId("run-status")).toHaveText("Stopped", { timeout: 60_000 });
});

// Every record fails in `fail` (a division by zero) and the run completes with 30 dead letters.
const FINISHED = `apiVersion: sluice/v1
kind: Pipeline
metadata:
  name: all-fail
spec:
  settings:
    delivery: at-least-once
  nodes:
    - id: gen
      type: source.generator
      config:
        count: 30
        rate: 0
        fields:
          id: { kind: sequence }
    - id: fail
      type: transform.map
      config:
        set:
          bad: id / (id - id)
    - id: out
      type: sink.console
      config: {}
  edges:
    - { from: gen, to: fail }
    - { from: fail, to: out }
`;

test("a finished run's dead letters cannot be replayed, and says why; discarding them takes a reason", async ({
  page,
}) => {
  test.setTimeout(120_000);
  await signUp(page, "Dirk Discard");
  await importPipeline(page, `All fail ${Date.now()}`, FINISHED);
  await startAndOpenRun(page);
  await expect(page.getByTestId("run-status")).toHaveText("Completed", { timeout: 60_000 });
  const section = page.getByRole("region", { name: "Dead letters" });
  await expect(page.getByTestId("dead-letter-count")).toHaveText("30");

  const replay = section.getByRole("button", { name: "Replay all (30)" });
  await expect(replay).toBeDisabled();
  await expect(replay).toHaveAttribute("title", /is completed.*Restart it from its last commit/);

  await section.getByTestId("dead-letter-group").getByRole("button", { name: "Show" }).click();
  await section.getByRole("button", { name: "Discard group (30)…" }).click();
  const dialog = page.getByRole("dialog", { name: "Discard dead letters" });
  const discard = dialog.getByRole("button", { name: "Discard" });
  await expect(discard).toBeDisabled();
  await dialog.getByLabel("Reason (kept on the run's timeline)").fill("ids are never equal here");
  await discard.click();
  await expect(page.getByText("30 dead letters discarded.")).toBeVisible();
  await expect(page.getByTestId("dead-letter-count")).toHaveText("0");
  await expect(page.getByTestId("dead-letter-discarded")).toHaveText("· 30 discarded");
  await expect(page.getByTestId("run-timeline")).toContainText(
    /Dirk Discard discarded 30 dead letters \(node fail: .*Division by zero.*\): ids are never equal here\./,
  );
});
