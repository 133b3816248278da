import { randomBytes } from "node:crypto";
import { emptyDefinition, type PipelineDefinition } from "@sluice/pipeline/definition";
import { type ApiHarness, createApiHarness, rejects as refusal } from "@sluice/test-kit/api-harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// Templates end to end through the router: publishing turns connections into slots, the gallery's visibility and
// filters, using a template (in the workspace and through a share link from another one), the upgrade to a new
// version that keeps the user's values, rolling back, links that stop opening, and a planted connection secret that
// no template, export or share-link answer ever carries.

let h: ApiHarness;
beforeAll(async () => {
  h = await createApiHarness("templates");
});
afterAll(async () => {
  await h?.close();
});

/** The call is refused with `code`, and its message matches `message` when given. */
async function rejects(call: Promise<unknown>, code: string, message?: RegExp): Promise<void> {
  const err = await refusal(call);
  expect(err.code, err.message).toBe(code);
  if (message) expect(err.message).toMatch(message);
}

const PLANTED = `planted-${randomBytes(12).toString("hex")}`;

/** generator → map → PostgreSQL, the table and a threshold as parameters, the connection named outright. */
function ordersPipeline(factor = "2"): PipelineDefinition {
  const def = emptyDefinition("orders-to-warehouse");
  def.spec.parameters.push(
    { name: "table", type: "string", label: "Table", default: "orders", required: true },
    { name: "batch", type: "integer", label: "Rows per second", min: 1, max: 1000, default: 10 },
  );
  def.spec.nodes.push(
    {
      id: "gen",
      type: "source.generator",
      config: { rate: "{{batch}}", fields: { id: { kind: "sequence" } } },
      ui: { x: 0, y: 0 },
    },
    { id: "double", type: "transform.map", config: { set: { twice: `id * ${factor}` } }, ui: { x: 200, y: 0 } },
    {
      id: "out",
      type: "sink.postgres",
      config: { connection: "warehouse", table: "{{table}}", mode: "upsert", key: ["id"] },
      ui: { x: 400, y: 0 },
    },
  );
  def.spec.edges.push({ from: "gen", to: "double" }, { from: "double", to: "out" });
  return def;
}

async function member(name: string) {
  const { cookie } = await h.signUp(name);
  const { api } = await h.caller(cookie);
  const me = (await api.auth.me())!;
  return { api, cookie, userId: me.user.id, workspaceId: me.workspaces[0]!.id };
}

async function postgresConnection(api: Awaited<ReturnType<typeof member>>["api"], name: string) {
  return api.connections.create({
    name,
    type: "postgres",
    config: { host: "warehouse.internal", port: 5432, database: "dw", user: "loader", password: PLANTED },
  });
}

describe("templates", () => {
  it("publishes, shares, is used elsewhere with the user's own values, upgrades keeping them, rolls back", async () => {
    const answers: unknown[] = [];
    const seen = <T>(value: T): T => {
      answers.push(value);
      return value;
    };
    const a = await member("Ada");
    const b = await member("Bo");
    await postgresConnection(a.api, "warehouse");
    await postgresConnection(b.api, "dwh");
    const { id: pipelineId } = await a.api.pipelines.create({ name: "Orders", definition: ordersPipeline() });

    // Publishing: the connection becomes a typed slot defaulting to its name; the gallery fields are kept.
    const { id: templateId, version } = seen(
      await a.api.templates.publish({
        pipelineId,
        title: "Orders to warehouse",
        description: "Generated orders, doubled, upserted.",
        tags: ["orders", "postgres"],
        visibility: "WORKSPACE",
      }),
    );
    expect(version).toBe(1);
    const t1 = seen(await a.api.templates.get({ id: templateId }));
    expect(t1.connectors).toEqual(["postgres"]);
    expect(t1.canEdit).toBe(true);
    expect(t1.definition.spec.nodes.find((n) => n.id === "out")?.config.connection).toBe("{{warehouse}}");
    expect(t1.definition.spec.parameters.find((p) => p.name === "warehouse")).toMatchObject({
      type: "connection",
      connectorType: "postgres",
      default: "warehouse",
    });
    expect(t1.thumbnail.nodes.map((n) => n.kind)).toEqual(["source", "transform", "sink"]);

    // The gallery: found by words, tag and connector in A; not seen from B's workspace.
    const byWord = seen(await a.api.templates.list({ search: "doubled warehouse" }));
    expect(byWord.map((t) => t.id)).toContain(templateId);
    expect((await a.api.templates.list({ tag: "orders" })).map((t) => t.id)).toContain(templateId);
    expect((await a.api.templates.list({ connector: "mqtt" })).map((t) => t.id)).not.toContain(templateId);
    expect((await b.api.templates.list({ scope: "all" })).map((t) => t.id)).not.toContain(templateId);
    await rejects(b.api.templates.get({ id: templateId }), "NOT_FOUND");

    // Shared by link: the link opens for anyone, signed in or not, and shows no secret.
    const link = seen(await a.api.shares.createTemplateLink({ templateId }));
    const { api: anonymous } = await h.caller();
    const shown = seen(await anonymous.shares.view({ token: link.token }));
    expect(shown.kind).toBe("template");
    expect(shown.kind === "template" && shown.template.title).toBe("Orders to warehouse");
    expect((await a.api.templates.get({ id: templateId })).visibility).toBe("LINK");

    // B uses it through the link, with their own connection and values; a wrong slot is refused by name.
    await rejects(
      b.api.templates.use({ shareToken: link.token, name: "My orders", values: { table: "b_orders" } }),
      "BAD_REQUEST",
      /warehouse/,
    );
    await rejects(
      b.api.templates.use({
        shareToken: link.token,
        name: "My orders",
        values: { warehouse: "dwh", table: "b_orders", batch: 5000 },
      }),
      "BAD_REQUEST",
      /batch/,
    );
    const made = seen(
      await b.api.templates.use({
        shareToken: link.token,
        name: "My orders",
        values: { warehouse: "dwh", table: "b_orders", batch: 50 },
      }),
    );
    const mine = await b.api.pipelines.get({ id: made.pipelineId });
    const values = Object.fromEntries(mine.version.definition.spec.parameters.map((p) => [p.name, p.default]));
    expect(values).toEqual({ table: "b_orders", batch: 50, warehouse: "dwh" });
    expect(seen(await b.api.templates.forPipeline({ pipelineId: made.pipelineId }))).toEqual({
      templateId,
      title: "Orders to warehouse",
      version: 1,
      latestVersion: 1,
    });
    expect((await a.api.templates.get({ id: templateId })).uses).toBe(1);

    // A publishes version 2, changing one node; B is offered it, sees the one change, and keeps their values.
    const edited = await a.api.pipelines.get({ id: pipelineId });
    await a.api.pipelines.saveVersion({
      id: pipelineId,
      baseVersion: edited.version.number,
      definition: ordersPipeline("3"),
    });
    expect(
      (await a.api.templates.publish({ pipelineId, templateId, title: "Orders to warehouse", message: "Triple" }))
        .version,
    ).toBe(2);
    expect((await b.api.templates.forPipeline({ pipelineId: made.pipelineId }))?.latestVersion).toBe(2);
    const plan = seen(await b.api.templates.upgradePlan({ pipelineId: made.pipelineId }));
    expect(plan).toMatchObject({ fromVersion: 1, toVersion: 2, localEdits: null });
    expect(plan.diff.nodes).toEqual({ added: [], removed: [], changed: [{ id: "double", keys: ["config.set"] }] });
    expect(plan.parameters.map((p) => [p.name, p.change, p.value])).toEqual([
      ["table", "kept", "b_orders"],
      ["batch", "kept", 50],
      ["warehouse", "kept", "dwh"],
    ]);
    const upgraded = await b.api.templates.upgrade({
      pipelineId: made.pipelineId,
      toVersion: 2,
      baseVersion: plan.pipelineVersion,
    });
    const after = await b.api.pipelines.get({ id: made.pipelineId });
    expect(after.version.number).toBe(upgraded.number);
    expect(after.version.message).toBe('Upgraded from template "Orders to warehouse" v1 to v2');
    expect(after.version.definition.spec.nodes.find((n) => n.id === "double")?.config).toEqual({
      set: { twice: "id * 3" },
    });
    expect(after.version.definition.metadata.name).toBe(mine.version.definition.metadata.name);
    expect(Object.fromEntries(after.version.definition.spec.parameters.map((p) => [p.name, p.default]))).toEqual(
      values,
    );

    // A stale plan is refused, not applied over the newer save; rolling back to v1 works and keeps the values.
    await rejects(
      b.api.templates.upgrade({ pipelineId: made.pipelineId, toVersion: 1, baseVersion: plan.pipelineVersion }),
      "CONFLICT",
    );
    await b.api.templates.upgrade({ pipelineId: made.pipelineId, toVersion: 1, baseVersion: upgraded.number });
    const back = await b.api.pipelines.get({ id: made.pipelineId });
    expect(back.version.message).toBe('Rolled back from template "Orders to warehouse" v2 to v1');
    expect(back.version.definition.spec.nodes.find((n) => n.id === "double")?.config).toEqual({
      set: { twice: "id * 2" },
    });
    expect((await b.api.templates.forPipeline({ pipelineId: made.pipelineId }))?.version).toBe(1);

    // B's own edits since are listed before an upgrade would replace them.
    await b.api.pipelines.saveVersion({
      id: made.pipelineId,
      baseVersion: back.version.number,
      definition: {
        ...back.version.definition,
        spec: {
          ...back.version.definition.spec,
          nodes: back.version.definition.spec.nodes.map((n) =>
            n.id === "gen" ? { ...n, config: { ...n.config, count: 100 } } : n,
          ),
        },
      },
    });
    const withEdits = await b.api.templates.upgradePlan({ pipelineId: made.pipelineId });
    expect(withEdits.localEdits?.nodes.changed).toEqual([{ id: "gen", keys: ["config.count"] }]);

    // Revoked, the link opens nothing and makes nothing; B's pipeline keeps working and forgets nothing.
    await a.api.shares.revoke({ id: link.id });
    await rejects(anonymous.shares.view({ token: link.token }), "NOT_FOUND", /revoked, it expired/);
    await rejects(
      b.api.templates.use({ shareToken: link.token, name: "Again", values: { warehouse: "dwh" } }),
      "NOT_FOUND",
    );
    const links = await a.api.shares.list({ templateId });
    expect(links.map((l) => l.active)).toEqual([false]);

    // A run of B's pipeline, through B's connection, shared as a live view: its answer holds no secret either.
    const { id: runB } = await b.api.runs.start({ pipelineId: made.pipelineId });
    const runLink = seen(await b.api.shares.createRunLink({ runId: runB, expiresInHours: 1 }));
    expect(seen(await anonymous.shares.view({ token: runLink.token })).kind).toBe("run");
    await b.api.runs.stop({ runId: runB });

    // Exports: what `sluice export` and the editor's download read.
    seen(await a.api.pipelines.get({ id: pipelineId }));
    seen(await a.api.pipelines.byName({ name: "Orders" }));
    seen(await b.api.pipelines.get({ id: made.pipelineId }));
    seen(await a.api.templates.list());
    seen(await b.api.templates.upgradePlan({ pipelineId: made.pipelineId, toVersion: 2 }));
    const text = JSON.stringify(answers);
    expect(answers.length).toBeGreaterThan(10);
    expect(text).not.toContain(PLANTED);
    const rows = await h.db.templateVersion.findMany({ where: { templateId } });
    expect(JSON.stringify(rows)).not.toContain(PLANTED);
  });

  it("keeps a private template to its author, and lets only editors publish", async () => {
    const a = await member("Pia");
    const { id: pipelineId } = await a.api.pipelines.create({ name: "Mine", definition: ordersPipeline() });
    const { id } = await a.api.templates.publish({ pipelineId, title: "Just mine", visibility: "PRIVATE" });
    const other = await h.signUp("Colleague");
    const colleague = await h.db.user.findUniqueOrThrow({ where: { email: other.email } });
    await h.db.membership.create({ data: { userId: colleague.id, workspaceId: a.workspaceId, role: "VIEWER" } });
    const { api: viewer } = await h.caller(other.cookie, a.workspaceId);
    expect((await viewer.templates.list({ scope: "workspace" })).map((t) => t.id)).not.toContain(id);
    await rejects(viewer.templates.get({ id }), "NOT_FOUND");
    await a.api.templates.update({ id, visibility: "WORKSPACE" });
    expect((await viewer.templates.get({ id })).canEdit).toBe(false);
    await rejects(viewer.templates.publish({ pipelineId, templateId: id, title: "Just mine" }), "FORBIDDEN");
  });

  it("refuses to publish a pipeline with errors, saying what to fix", async () => {
    const a = await member("Eli");
    const broken = ordersPipeline();
    broken.spec.edges = [];
    const { id: pipelineId } = await a.api.pipelines.create({ name: "Broken", definition: broken });
    await rejects(
      a.api.templates.publish({ pipelineId, title: "Broken" }),
      "BAD_REQUEST",
      /before it can be a template/,
    );
  });

  it("opens a run's live view until its link expires or is revoked, without who started it", async () => {
    const a = await member("Rui");
    const def = emptyDefinition("watched");
    def.spec.nodes.push(
      { id: "gen", type: "source.generator", config: { rate: 1 } },
      { id: "out", type: "sink.console", config: {} },
    );
    def.spec.edges.push({ from: "gen", to: "out" });
    const { id: pipelineId } = await a.api.pipelines.create({ name: "Watched", definition: def });
    const { id: runId } = await a.api.runs.start({ pipelineId });
    await rejects(a.api.shares.createRunLink({ runId, expiresInHours: 24 * 31 }), "BAD_REQUEST", /30 days/);
    const link = await a.api.shares.createRunLink({ runId, expiresInHours: 2 });
    expect(link.expiresAt!.getTime() - Date.now()).toBeGreaterThan(7_100_000);
    const { api: anonymous } = await h.caller();
    const view = await anonymous.shares.view({ token: link.token });
    expect(view).toMatchObject({ kind: "run", run: { runId, pipelineName: "Watched", version: 1 } });
    expect(JSON.stringify(view)).not.toContain("Rui");
    await h.db.shareLink.update({ where: { id: link.id }, data: { expiresAt: new Date(Date.now() - 1000) } });
    await rejects(anonymous.shares.view({ token: link.token }), "NOT_FOUND");
    const second = await a.api.shares.createRunLink({ runId, expiresInHours: 1 });
    await a.api.shares.revoke({ id: second.id });
    await rejects(anonymous.shares.view({ token: second.token }), "NOT_FOUND");
    await a.api.runs.stop({ runId });
  });
});
