import { readFile } from "node:fs/promises";
import { expect, type Page, test } from "@playwright/test";
import { parsePipelineText } from "@sluice/pipeline/file-format";
import { connect, createPipeline, dropNode, signUp } from "./support";

// The pipelines page, as someone keeping a handful of pipelines would use it: a list with search, owner and last
// run; create, rename (with a description), duplicate, export as YAML, import that file back, refuse a broken file,
// and delete only after confirming.

function pipelinesTable(page: Page) {
  return page.getByRole("table", { name: "Pipelines" });
}

/** The list's row of one pipeline, found by the link with its exact name. */
function row(page: Page, name: string) {
  return pipelinesTable(page)
    .getByRole("row")
    .filter({ has: page.getByRole("link", { name, exact: true }) });
}

async function backToList(page: Page): Promise<void> {
  await page.getByRole("link", { name: "Pipelines", exact: true }).first().click();
  await expect(page).toHaveURL(/\/pipelines$/);
  await expect(pipelinesTable(page)).toBeVisible();
}

test("the pipelines page lists, searches, renames, duplicates, exports, imports and deletes pipelines", async ({
  page,
}, testInfo) => {
  test.setTimeout(150_000);
  await signUp(page, "Pat Pipelines", "e2e-list");

  // Two pipelines; the first gets Generator → Console, so its export has something to name.
  await createPipeline(page, "Orders stream");
  await dropNode(page, "Generator", "generator1", 0.3, 0.4);
  await dropNode(page, "Console", "console1", 0.65, 0.4);
  await connect(page, "generator1", "console1");
  await expect(page.locator(".react-flow__edge")).toHaveCount(1);
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await expect(page.getByText("v2", { exact: true })).toBeVisible();
  await backToList(page);
  await createPipeline(page, "Audit log");
  await backToList(page);

  // Both listed, with their owner and no run yet.
  for (const name of ["Orders stream", "Audit log"]) {
    await expect(row(page, name)).toHaveCount(1);
    await expect(row(page, name).getByRole("cell", { name: "Pat Pipelines", exact: true })).toBeVisible();
    await expect(row(page, name)).toContainText("Never run");
  }

  // Search narrows the list by name, says when nothing matches, and clearing it brings everything back.
  const search = page.getByLabel("Search pipelines");
  await search.fill("orders");
  await expect(row(page, "Audit log")).toHaveCount(0);
  await expect(row(page, "Orders stream")).toHaveCount(1);
  await search.fill("no such pipeline");
  await expect(page.getByText("No pipeline’s name contains “no such pipeline”.")).toBeVisible();
  await search.fill("");
  await expect(row(page, "Audit log")).toHaveCount(1);
  await expect(row(page, "Orders stream")).toHaveCount(1);

  // Rename, with a description: both shown in the list.
  const notice = page.getByRole("status").filter({ hasText: /\S/ });
  await page.getByRole("button", { name: "Rename Orders stream" }).click();
  const rename = page.getByRole("dialog", { name: "Rename “Orders stream”" });
  await rename.getByLabel("Name").fill("Orders by country");
  await rename.getByLabel("Description").fill("Counts orders per country");
  await rename.getByRole("button", { name: "Rename", exact: true }).click();
  await expect(rename).toBeHidden();
  await expect(notice).toContainText("Renamed to “Orders by country”.");
  await expect(row(page, "Orders stream")).toHaveCount(0);
  await expect(row(page, "Orders by country")).toContainText("Counts orders per country");

  // Duplicate: a notice with a link to the copy, which is listed and holds the same nodes.
  await page.getByRole("button", { name: "Duplicate Orders by country" }).click();
  await expect(notice).toContainText("Duplicated as “Orders by country (copy)”.");
  await expect(row(page, "Orders by country (copy)")).toHaveCount(1);
  await notice.getByRole("link", { name: "Open it" }).click();
  await expect(page.getByRole("heading", { name: "Orders by country (copy)" })).toBeVisible();
  await expect(page.getByTestId("node-generator1")).toBeVisible();
  await expect(page.getByTestId("node-console1")).toBeVisible();
  await backToList(page);

  // Export: a YAML file of the latest version, naming its nodes.
  const downloading = page.waitForEvent("download");
  await page.getByRole("button", { name: "Export Orders by country", exact: true }).click();
  const download = await downloading;
  expect(download.suggestedFilename()).toBe("orders-by-country.yaml");
  const file = testInfo.outputPath(download.suggestedFilename());
  await download.saveAs(file);
  await expect(notice).toContainText("Exported “Orders by country” version 2 as YAML.");
  const parsed = parsePipelineText(await readFile(file, "utf8"), "yaml");
  if (!parsed.ok) throw new Error(`the export must be YAML: ${parsed.error.message}`);
  const exported = parsed.value as {
    kind?: string;
    metadata?: { title?: string; description?: string };
    spec?: { nodes?: { id: string; type: string }[] };
  };
  expect(exported.kind).toBe("Pipeline");
  expect(exported.metadata).toMatchObject({ title: "Orders by country", description: "Counts orders per country" });
  expect(exported.spec?.nodes?.map((n) => [n.id, n.type])).toEqual([
    ["generator1", "source.generator"],
    ["console1", "sink.console"],
  ]);

  // A broken file is refused with its problems, and nothing is created.
  await page.getByRole("button", { name: "Import…" }).click();
  let importing = page.getByRole("dialog", { name: "Import a pipeline" });
  const fileInput = importing.getByLabel("Pipeline file");
  await fileInput.setInputFiles({
    name: "broken.yaml",
    mimeType: "application/yaml",
    buffer: Buffer.from("apiVersion: sluice/v1\nkind: Pipeline\nspec:\n  nodes: [\n    { id: a\n"),
  });
  const problems = importing.getByRole("alert");
  await expect(problems).toContainText("broken.yaml cannot be imported:");
  await expect(problems).toContainText("Line 6, column 1: not valid YAML");
  await expect(importing.getByRole("button", { name: "Import pipeline" })).toBeDisabled();
  await fileInput.setInputFiles({
    name: "shopping.yaml",
    mimeType: "application/yaml",
    buffer: Buffer.from("milk: 2\neggs: 12\n"),
  });
  await expect(problems).toContainText("shopping.yaml cannot be imported:");
  await expect(problems).toContainText("“milk” and “eggs” are not known settings; remove them.");
  await expect(importing.getByRole("button", { name: "Import pipeline" })).toBeDisabled();
  await importing.getByRole("button", { name: "Cancel" }).click();
  await expect(importing).toBeHidden();
  await expect(pipelinesTable(page).getByRole("row")).toHaveCount(4); // the header and three pipelines

  // The exported file imports back under a new name, nodes and connection intact.
  await page.getByRole("button", { name: "Import…" }).click();
  importing = page.getByRole("dialog", { name: "Import a pipeline" });
  await importing.getByLabel("Pipeline file").setInputFiles(file);
  await expect(importing).toContainText("orders-by-country.yaml: 2 nodes, 1 connection.");
  // The file's name is suggested; it is taken, so the import asks for another.
  const importName = importing.getByLabel("Name");
  await expect(importName).toHaveValue("Orders by country");
  await importing.getByRole("button", { name: "Import pipeline" }).click();
  await expect(importing.getByRole("alert")).toHaveText('A pipeline called "Orders by country" already exists');
  await importName.fill("Orders imported");
  await importing.getByRole("button", { name: "Import pipeline" }).click();
  await expect(page.getByRole("heading", { name: "Orders imported" })).toBeVisible();
  await expect(page.getByTestId("node-generator1")).toBeVisible();
  await expect(page.getByTestId("node-console1")).toBeVisible();
  await expect(page.locator(".react-flow__edge")).toHaveCount(1);

  // Run it briefly, for the list's last-run column.
  await page.getByRole("button", { name: "Start" }).click();
  await expect(page.getByTestId("run-status")).toHaveText("running", { timeout: 30_000 });
  await page.getByRole("button", { name: "Stop" }).click();
  await expect(page.getByTestId("run-status")).toHaveText("stopped", { timeout: 30_000 });
  await backToList(page);
  await expect(
    row(page, "Orders imported").getByRole("link", { name: "Last run of Orders imported: stopped" }),
  ).toBeVisible();
  await expect(row(page, "Orders imported")).toContainText("Counts orders per country");
  await expect(row(page, "Orders by country")).toContainText("Never run");

  // Delete asks first: Cancel keeps the pipeline, Delete removes it.
  await page.getByRole("button", { name: "Delete Orders by country (copy)" }).click();
  const confirm = page.getByRole("alertdialog", { name: "Delete “Orders by country (copy)”?" });
  await expect(confirm).toContainText("This cannot be undone.");
  await confirm.getByRole("button", { name: "Cancel" }).click();
  await expect(confirm).toBeHidden();
  await expect(row(page, "Orders by country (copy)")).toHaveCount(1);
  await page.getByRole("button", { name: "Delete Orders by country (copy)" }).click();
  await confirm.getByRole("button", { name: "Delete pipeline" }).click();
  await expect(confirm).toBeHidden();
  await expect(notice).toContainText("Deleted “Orders by country (copy)”.");
  await expect(row(page, "Orders by country (copy)")).toHaveCount(0);
  await expect(row(page, "Orders by country")).toHaveCount(1);
  await expect(row(page, "Orders imported")).toHaveCount(1);
});
