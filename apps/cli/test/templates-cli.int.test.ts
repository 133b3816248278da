import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { emptyDefinition, type PipelineDefinition } from "@sluice/pipeline/definition";
import { type ApiHarness, createApiHarness, rejects } from "@sluice/test-kit/api-harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXIT } from "../src/io";
import { runSluice, type ServedApi, serveApi } from "./api-server-support";

// `sluice templates list|use` against the real API served over HTTP, with an API token as CI would use it. The
// template is published here from a pipeline of the test's own (not a built-in one), so the test depends on nothing
// seeded: its connection becomes a slot, and its rate and table are parameters the command reads by their types.

let h: ApiHarness;
let served: ServedApi;
let home: string;
let env: Record<string, string>;
let session: Awaited<ReturnType<ApiHarness["caller"]>>["api"];
let templateId: string;

const TITLE = "Orders to warehouse (CLI)";
const NAME = "orders-to-warehouse-cli";

/** generator → PostgreSQL: the rate (an integer) and the table are parameters; the connection is named outright. */
function ordersPipeline(): PipelineDefinition {
  const def = emptyDefinition("orders-cli");
  def.spec.parameters.push(
    { name: "rate", type: "integer", label: "Rows per second", min: 1, max: 1000, default: 10 },
    { name: "table", type: "string", label: "Table", default: "orders" },
  );
  def.spec.nodes.push(
    { id: "gen", type: "source.generator", config: { rate: "{{rate}}", fields: { id: { kind: "sequence" } } } },
    {
      id: "out",
      type: "sink.postgres",
      config: { connection: "warehouse", table: "{{table}}", mode: "upsert", key: ["id"] },
    },
  );
  def.spec.edges.push({ from: "gen", to: "out" });
  return def;
}

beforeAll(async () => {
  h = await createApiHarness("cli-templates");
  served = await serveApi(h);
  const { cookie } = await h.signUp("Hedy");
  session = (await h.caller(cookie)).api;
  const { secret } = await session.tokens.createPersonal({
    name: "ci",
    scopes: ["read", "write"],
    expiresInDays: 1,
  });
  home = await mkdtemp(path.join(os.tmpdir(), "sluice-cli-templates-"));
  env = { XDG_CONFIG_HOME: home, SLUICE_URL: served.base, SLUICE_TOKEN: secret };

  for (const name of ["warehouse", "dwh"]) {
    await session.connections.create({
      name,
      type: "postgres",
      config: { host: "warehouse.internal", port: 5432, database: "dw", user: "loader", password: "not-used" },
    });
  }
  const { id: pipelineId } = await session.pipelines.create({ name: "Orders CLI", definition: ordersPipeline() });
  ({ id: templateId } = await session.templates.publish({
    pipelineId,
    title: TITLE,
    description: "Generated orders upserted into a warehouse table.",
    tags: ["orders", "cli-made"],
  }));
});

afterAll(async () => {
  await served?.close();
  await h?.close();
  if (home) await rm(home, { recursive: true, force: true });
});

const sluice = (args: string[]) => runSluice(args, env);

/** The latest version of the pipeline called `name`, read back through the API. */
async function latestDefinition(name: string): Promise<PipelineDefinition> {
  const pipeline = await session.pipelines.byName({ name });
  expect(pipeline, `pipeline ${name}`).not.toBeNull();
  return pipeline!.version.definition;
}

function defaults(def: PipelineDefinition): Record<string, unknown> {
  return Object.fromEntries(def.spec.parameters.map((p) => [p.name, p.default]));
}

describe("sluice templates", () => {
  it("lists the published template, found by search and by tag, as JSON and as a table", async () => {
    const bySearch = await sluice(["templates", "list", "--search", "warehouse", "--json"]);
    expect(bySearch.code, bySearch.err).toBe(EXIT.ok);
    const items = JSON.parse(bySearch.out) as { id: string; name: string }[];
    expect(items).toEqual([
      expect.objectContaining({
        id: templateId,
        name: NAME,
        title: TITLE,
        tags: ["orders", "cli-made"],
        connectors: ["postgres"],
        latestVersion: 1,
        hasSample: false,
      }),
    ]);

    const byTag = await sluice(["templates", "list", "--tag", "cli-made", "--json"]);
    expect(byTag.code, byTag.err).toBe(EXIT.ok);
    expect((JSON.parse(byTag.out) as { id: string }[]).map((t) => t.id)).toEqual([templateId]);
    const otherTag = await sluice(["templates", "list", "--tag", "clickstream", "--json"]);
    expect(JSON.parse(otherTag.out)).toEqual([]);

    const table = await sluice(["templates", "list", "--scope", "mine"]);
    expect(table.code, table.err).toBe(EXIT.ok);
    const [header, row, ...rest] = table.out.split("\n");
    expect(header).toMatch(/^TITLE\s+NAME\s+ID\s+VERSION\s+TAGS\s+CONNECTORS\s+USES\s+SAMPLE$/);
    expect(row?.split(/\s{2,}/)).toEqual([TITLE, NAME, templateId, "v1", "orders,cli-made", "postgres", "0", "no"]);
    expect(rest).toEqual([]);

    const badScope = await sluice(["templates", "list", "--scope", "everything"]);
    expect(badScope.code).toBe(EXIT.unreadable);
    expect(badScope.err).toMatch(/^sluice: --scope takes all, built-in, workspace or mine/);
  });

  it("makes a pipeline by template name whose latest version has the values as its parameters' defaults", async () => {
    const used = await sluice([
      "templates",
      "use",
      NAME,
      "--name",
      "My orders",
      "--param",
      "rate=25",
      "--param",
      "table=cli_orders",
      "--connection",
      "warehouse=dwh",
    ]);
    expect(used.code, used.err).toBe(EXIT.ok);
    const made = await session.pipelines.byName({ name: "My orders" });
    expect(used.out).toBe(`My orders (${made?.id}): made from "${TITLE}" v1`);
    expect(defaults(await latestDefinition("My orders"))).toEqual({ rate: 25, table: "cli_orders", warehouse: "dwh" });

    // By id, as JSON; unset parameters keep the template's defaults.
    const byId = await sluice(["templates", "use", templateId, "--name", "Their orders", "--json"]);
    expect(byId.code, byId.err).toBe(EXIT.ok);
    const their = await session.pipelines.byName({ name: "Their orders" });
    expect(JSON.parse(byId.out)).toEqual({
      pipelineId: their?.id,
      name: "Their orders",
      template: { id: templateId, title: TITLE, version: 1 },
      sample: false,
    });
    expect(defaults(await latestDefinition("Their orders"))).toEqual({
      rate: 10,
      table: "orders",
      warehouse: "warehouse",
    });
    expect((await session.templates.get({ id: templateId })).uses).toBe(2);
  });

  it("makes a pipeline from a share link", async () => {
    const link = await session.shares.createTemplateLink({ templateId });
    const used = await sluice([
      "templates",
      "use",
      `${served.base}/share/${link.token}`,
      "--name",
      "Linked orders",
      "--param",
      "rate=3",
      "--json",
    ]);
    expect(used.code, used.err).toBe(EXIT.ok);
    expect(JSON.parse(used.out)).toMatchObject({ name: "Linked orders", template: { id: templateId, version: 1 } });
    expect(defaults(await latestDefinition("Linked orders"))).toMatchObject({ rate: 3 });

    const cut = await sluice(["templates", "use", `${served.base}/share/${link.token.slice(0, 20)}`, "--name", "Cut"]);
    expect(cut.code).toBe(EXIT.invalid);
    expect(cut.err).toMatch(/this is not the token of a share link: copy the whole link/);
  });

  it("refuses a wrong value with the API's message naming the parameter, and makes nothing", async () => {
    const api = await rejects(session.templates.use({ templateId, name: "Wrong rate", values: { rate: 2.5 } }));
    expect(api.message).toBe('parameter "rate": 2.5 is not an integer');
    const wrong = await sluice(["templates", "use", NAME, "--name", "Wrong rate", "--param", "rate=2.5"]);
    expect(wrong.code).toBe(EXIT.invalid);
    expect(wrong.err).toBe(`sluice: templates use ${NAME}: ${api.message}`);

    // What only the server can know: which connections the workspace has.
    const noConnection = await sluice([
      "templates",
      "use",
      NAME,
      "--name",
      "Wrong rate",
      "--connection",
      "warehouse=nowhere",
    ]);
    expect(noConnection.code).toBe(EXIT.invalid);
    expect(noConnection.err).toBe(
      `sluice: templates use ${NAME}: parameter "warehouse": there is no connection named "nowhere"`,
    );
    // A name the template does not declare is the server's to refuse, in its words.
    const unknown = await sluice(["templates", "use", NAME, "--name", "Wrong rate", "--param", "region=eu"]);
    expect(unknown.code).toBe(EXIT.invalid);
    expect(unknown.err).toBe(`sluice: templates use ${NAME}: values.region: the template has no parameter "region"`);
    expect(await session.pipelines.byName({ name: "Wrong rate" })).toBeNull();
  });

  it("says so when the name matches no template, and when the call is wrong", async () => {
    const none = await sluice(["templates", "use", "no-such-template", "--name", "Nothing"]);
    expect(none.code).toBe(EXIT.invalid);
    expect(none.err).toBe(
      'sluice: templates use no-such-template: no template with the id or name "no-such-template" here; sluice templates list shows those you can use',
    );

    const noName = await sluice(["templates", "use", NAME]);
    expect(noName.code).toBe(EXIT.unreadable);
    expect(noName.err).toMatch(/^sluice: give the new pipeline a name with --name NAME/);
    const badParam = await sluice(["templates", "use", NAME, "--name", "X", "--param", "rate"]);
    expect(badParam.code).toBe(EXIT.unreadable);
    expect(badParam.err).toBe(`sluice: templates use ${NAME}: --param rate: write NAME=VALUE`);
  });

  it("refuses a name two templates share, listing both", async () => {
    // A built-in template may share a name with a workspace's own: the workspace unique key leaves built-ins out.
    const definition = (await session.templates.get({ id: templateId })).definition;
    const builtIn = await h.db.template.create({
      data: {
        name: NAME,
        title: "Orders to warehouse (built in)",
        builtIn: true,
        versions: { create: { number: 1, definition: definition as object } },
      },
    });
    const ambiguous = await sluice(["templates", "use", NAME, "--name", "Which orders"]);
    expect(ambiguous.code).toBe(EXIT.invalid);
    expect(ambiguous.err).toContain(`"${NAME}" names 2 templates:`);
    expect(ambiguous.err).toContain(`${builtIn.id} ("Orders to warehouse (built in)", built in)`);
    expect(ambiguous.err).toContain(`${templateId} ("${TITLE}", this workspace's)`);
    await h.db.template.delete({ where: { id: builtIn.id } });
  });
});
