import { copyFile, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { catalog } from "@sluice/nodes/catalog";
import { type ApiHarness, createApiHarness } from "@sluice/test-kit/api-harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedBuiltInTemplates } from "./built-in-templates";

// Seeding the built-in templates at start: the shipped files all load; a second start changes nothing; a changed
// file becomes a new version (so pipelines made from the old one are offered it); every workspace sees them.

const SHIPPED = fileURLToPath(new URL("../../../../templates/", import.meta.url));

let h: ApiHarness;
let dir: string;
beforeAll(async () => {
  h = await createApiHarness("built-in-templates");
  dir = await mkdtemp(path.join(tmpdir(), "sluice-templates-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
  await h?.close();
});

describe("built-in templates", () => {
  it("loads the shipped ones, once, and shows them to every workspace", async () => {
    const first = await seedBuiltInTemplates(h.db, catalog, SHIPPED);
    expect(first.created).toHaveLength(6);
    const again = await seedBuiltInTemplates(h.db, catalog, SHIPPED);
    expect(again).toEqual({ created: [], updated: [], unchanged: first.created });
    const { cookie } = await h.signUp("Gal");
    const { api } = await h.caller(cookie);
    const listed = await api.templates.list({ scope: "built-in" });
    expect(listed.map((t) => t.name).sort()).toEqual([...first.created].sort());
    expect(listed.every((t) => t.builtIn && t.author === "Sluice" && t.latestVersion === 1)).toBe(true);
    const iot = listed.find((t) => t.name === "iot-sensor-alerts")!;
    expect(iot.connectors).toEqual(["mqtt", "nats", "postgres"]);
    expect(iot.hasSample).toBe(true);
    expect((await api.templates.list({ connector: "mariadb" })).map((t) => t.name)).toEqual([
      "cdc-sync-through-event-log",
    ]);
    expect((await api.templates.get({ id: iot.id })).canEdit).toBe(false);

    // Used on sample data, its MQTT source is a generator and the MQTT slot is gone; the other slots bind as usual.
    await api.connections.create({ name: "bus", type: "nats", config: { servers: "nats://bus.internal:4222" } });
    await api.connections.create({
      name: "history",
      type: "postgres",
      config: { host: "db.internal", port: 5432, database: "dw", user: "loader" },
    });
    const values = { alerts: "bus", history: "history" };
    await expect(api.templates.use({ templateId: iot.id, name: "Real sensors", values })).rejects.toThrow(/sensors/);
    const { pipelineId } = await api.templates.use({
      templateId: iot.id,
      name: "Sample sensors",
      values,
      sample: true,
    });
    const made = await api.pipelines.get({ id: pipelineId });
    expect(made.version.message).toBe(`Made from template "${iot.title}" v1 on sample data`);
    const sources = made.version.definition.spec.nodes.filter((n) => n.type.startsWith("source."));
    expect(sources.map((n) => n.type)).toEqual(["source.generator"]);
    const slots = made.version.definition.spec.parameters.filter((p) => p.type === "connection");
    expect(slots.map((p) => [p.name, p.default])).toEqual([
      ["alerts", "bus"],
      ["history", "history"],
    ]);
  });

  it("makes a changed file a new version and refuses a broken one, naming it", async () => {
    const file = path.join(dir, "periodic-report.yaml");
    await copyFile(path.join(SHIPPED, "periodic-report.yaml"), file);
    await seedBuiltInTemplates(h.db, catalog, dir);
    const text = await readFile(file, "utf8");
    await writeFile(file, text.replace(/title: .*/, "title: Periodic report, renamed"));
    // Only the gallery fields changed: no new version.
    expect((await seedBuiltInTemplates(h.db, catalog, dir)).unchanged).toEqual(["periodic-report"]);
    await writeFile(file, text.replace("parallelism: 2", "parallelism: 3"));
    expect((await seedBuiltInTemplates(h.db, catalog, dir)).updated).toEqual(["periodic-report"]);
    const row = await h.db.template.findFirstOrThrow({ where: { builtIn: true, name: "periodic-report" } });
    expect(row.latestVersion).toBe(2);
    await writeFile(path.join(dir, "zz-broken.yaml"), "apiVersion: sluice/v1\nkind: Template\nmetadata: {}\n");
    await expect(seedBuiltInTemplates(h.db, catalog, dir)).rejects.toThrow(/^zz-broken\.yaml: metadata\.name/);
  });
});
