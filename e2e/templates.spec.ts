import { expect, type Page, test } from "@playwright/test";
import pg from "pg";
import { importPipeline } from "./run-support";
import { adminUrl, fillPostgresConnection, PASSWORD, query, signUp } from "./support";

// Templates as two new users meet them. A saves a pipeline with two parameters and a connection as a template and
// copies its share link; signed out, the link shows the template read-only; B, in a workspace of their own, signs
// in from it, uses it with their own values and connection, and runs it into PostgreSQL. A publishes version 2,
// which changes one node; B's editor offers the upgrade with a diff of that node, and upgrading keeps B's values.

const STAMP = Date.now();
const TABLE = `e2e_tpl_${STAMP}`;
const TITLE = `Orders doubled ${STAMP}`;

function pipelineYaml(factor: number): string {
  return `apiVersion: sluice/v1
kind: Pipeline
metadata:
  name: orders-doubled
spec:
  settings:
    parallelism: 1
  parameters:
    - { name: table, type: string, label: Table, default: orders_doubled, description: The table rows go to. }
    - { name: rows, type: integer, label: Rows, min: 1, max: 1000, default: 10, description: How many orders. }
  nodes:
    - id: gen
      type: source.generator
      config:
        count: "{{rows}}"
        rate: 0
        fields:
          id: { kind: sequence }
      ui: { x: 0, y: 0 }
    - id: double
      type: transform.map
      config:
        set:
          twice: id * ${factor}
      ui: { x: 260, y: 0 }
    - id: out
      type: sink.postgres
      config:
        connection: warehouse
        table: "{{table}}"
        createTable: true
      ui: { x: 520, y: 0 }
  edges:
    - { from: gen, to: double }
    - { from: double, to: out }
`;
}

interface PipelineView {
  latestVersion: number;
  version: {
    number: number;
    definition: {
      spec: {
        parameters: { name: string; default?: unknown }[];
        nodes: { id: string; config: Record<string, unknown> }[];
      };
    };
  };
}

async function rowsInTable(): Promise<{ id: number; twice: number }[]> {
  const client = new pg.Client({ connectionString: adminUrl.toString() });
  await client.connect();
  try {
    const { rows } = await client.query<{ id: string; twice: string }>(`SELECT id, twice FROM "${TABLE}" ORDER BY id`);
    return rows.map((r) => ({ id: Number(r.id), twice: Number(r.twice) }));
  } finally {
    await client.end();
  }
}

test.afterAll(async () => {
  const client = new pg.Client({ connectionString: adminUrl.toString() });
  await client.connect();
  await client.query(`DROP TABLE IF EXISTS "${TABLE}"`);
  await client.end();
});

/** A publishes the open pipeline's saved version as a new template, or as the next version of TITLE. */
async function publish(page: Page, next: boolean): Promise<void> {
  await page.getByRole("button", { name: "Save as template" }).click();
  const dialog = page.getByRole("dialog", { name: "Save as template" });
  if (next) {
    await dialog.getByLabel("Publish as").selectOption({ label: `A new version of “${TITLE}” (now v1)` });
    await dialog.getByLabel("Version message").fill("Triple instead of double");
  }
  await dialog.getByLabel("Title").fill(TITLE);
  await dialog.getByRole("button", { name: "Publish" }).click();
  await expect(dialog.getByRole("status")).toContainText(next ? "Published version 2" : "Published the template.");
}

test("a template is shared by link, used and run in another workspace, and upgraded keeping the user's values", async ({
  browser,
}) => {
  test.setTimeout(300_000);
  const a = await (await browser.newContext()).newPage();
  const b = await (await browser.newContext()).newPage();
  const stranger = await (await browser.newContext()).newPage();

  // A: a pipeline with two parameters and a connection named outright, saved as a template, shared by link.
  await signUp(a, "Tess Template", "e2e-tpl-a");
  const editorA = await importPipeline(a, `Orders ${STAMP}`, pipelineYaml(2));
  await publish(a, false);
  await a.getByRole("link", { name: "Open the template" }).click();
  await expect(a.getByRole("heading", { name: TITLE })).toBeVisible();
  await a.getByRole("button", { name: "Create share link" }).click();
  const link = ((await a.getByTestId("share-link-url").textContent()) ?? "").trim();
  expect(link).toMatch(/\/share\/[A-Za-z0-9_-]{43}$/);

  // Signed out, the link shows the template read-only: its graph, parameters and the connection slot.
  await stranger.goto(link);
  await expect(stranger.getByRole("heading", { name: TITLE })).toBeVisible();
  await expect(stranger.getByTestId("read-only-canvas")).toBeVisible();
  const parameters = stranger.getByRole("table", { name: "Parameters" });
  await expect(parameters).toContainText("Rows");
  await expect(parameters).toContainText("Table");
  await expect(parameters).toContainText("postgres");
  await expect(stranger.getByRole("button", { name: "Save as template" })).toHaveCount(0);
  await expect(stranger.getByRole("link", { name: "Use in my workspace" })).toHaveAttribute(
    "href",
    /\/signin\?next=%2Fshare%2F/,
  );

  // B: a workspace of their own. Signed out, B opens the link and signs in from it, coming back to the template;
  // then uses it with their own values and a PostgreSQL connection made on the spot, from the form.
  const emailB = await signUp(b, "Bo Borrower", "e2e-tpl-b");
  await b.getByRole("button", { name: "Sign out" }).click();
  await expect(b).toHaveURL(/\/signin$/);
  await b.goto(link);
  await b.getByRole("link", { name: "Use in my workspace" }).click();
  await b.getByLabel("Email").fill(emailB);
  await b.getByLabel("Password").fill(PASSWORD);
  await b.getByRole("button", { name: "Sign in" }).click();
  await expect(b).toHaveURL(link);
  await b.getByRole("button", { name: "Use in my workspace" }).click();
  const use = b.getByRole("dialog", { name: "Use template" });
  await use.getByLabel("Pipeline name").fill(`Bo's orders ${STAMP}`);
  await use.getByLabel("Table", { exact: true }).fill(TABLE);
  await use.getByLabel("Rows", { exact: true }).fill("15");
  await expect(use.getByText("There is no postgres connection in this workspace.")).toBeVisible();
  await use.getByRole("button", { name: "New postgres connection…" }).click();
  await fillPostgresConnection(b.getByRole("dialog", { name: "New connection" }), "b-warehouse");
  await expect(use.getByLabel("postgres: warehouse")).toHaveValue("b-warehouse");
  await use.getByRole("button", { name: "Create pipeline" }).click();
  await expect(b).toHaveURL(/\/pipelines\/[^/]+$/);
  const pipelineB = new URL(b.url()).pathname.split("/").pop()!;
  await expect(b.getByRole("status").filter({ hasText: "From template" })).toContainText(`${TITLE} v1`);

  // B runs it: 15 rows, each doubled, in B's table through B's connection.
  await b.getByRole("button", { name: "Start" }).click();
  await expect(b.getByTestId("run-status")).toHaveText(/completed/i, { timeout: 90_000 });
  const rows = await rowsInTable();
  expect(rows).toHaveLength(15);
  expect(rows.every((r) => r.twice === r.id * 2)).toBe(true);

  // A changes one node and publishes version 2.
  await a.goto(editorA);
  const pipelineA = new URL(editorA).pathname.split("/").pop()!;
  const current = await query<PipelineView>(a, "pipelines.get", { id: pipelineA });
  const changed = structuredClone(current.version.definition);
  changed.spec.nodes = changed.spec.nodes.map((n) =>
    n.id === "double" ? { ...n, config: { set: { twice: "id * 3" } } } : n,
  );
  const saved = await a.request.post("/api/trpc/pipelines.saveVersion", {
    data: { json: { id: pipelineA, baseVersion: current.latestVersion, definition: changed, message: "Triple" } },
  });
  expect(saved.ok(), await saved.text()).toBe(true);
  await a.reload();
  await publish(a, true);

  // B is offered version 2, with the diff of the one changed node; upgrading keeps B's values.
  await b.reload();
  const banner = b.getByRole("status").filter({ hasText: "version 2 is out" });
  await expect(banner).toBeVisible();
  await banner.getByRole("button", { name: "See what changed" }).click();
  const upgrade = b.getByRole("dialog", { name: "Upgrade from template" });
  await expect(upgrade.getByTestId("diff-summary")).toHaveText(/1 changed/);
  await expect(upgrade.getByTestId("diff-item-double")).toBeVisible();
  await expect(upgrade.getByTestId("diff-item-gen")).toHaveCount(0);
  await expect(upgrade.getByTestId("upgrade-parameter-table")).toContainText(TABLE);
  await expect(upgrade.getByTestId("upgrade-parameter-rows")).toContainText("15");
  await upgrade.getByRole("button", { name: "Upgrade to v2" }).click();
  await expect(b.getByText("Upgraded to v2; your values were kept.")).toBeVisible();

  const after = await query<PipelineView>(b, "pipelines.get", { id: pipelineB });
  const values = Object.fromEntries(after.version.definition.spec.parameters.map((p) => [p.name, p.default]));
  expect(values).toEqual({ table: TABLE, rows: 15, warehouse: "b-warehouse" });
  expect(after.version.definition.spec.nodes.find((n) => n.id === "double")?.config).toEqual({
    set: { twice: "id * 3" },
  });
  await expect(b.getByRole("status").filter({ hasText: "From template" })).toContainText(`${TITLE} v2`);
});
