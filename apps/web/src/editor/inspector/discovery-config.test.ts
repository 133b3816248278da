import { catalog } from "@sluice/nodes/catalog";
import { configJsonSchema } from "@sluice/pipeline/config-schema";
import { describe, expect, it } from "vitest";
import { configForm } from "../../forms/schema";
import {
  applyDiscovery,
  canApplyDiscovery,
  type DiscoveredObject,
  declaredType,
  discoveryHints,
} from "./discovery-config";

function hintsOf(type: string) {
  const def = catalog.get(type);
  if (!def) throw new Error(`no node type ${type}`);
  return { def, hints: discoveryHints(configForm(configJsonSchema(def))) };
}

const orders: DiscoveredObject = {
  kind: "table",
  name: "public.orders",
  fields: [
    { name: "id", type: "int", nullable: false },
    { name: "amount", type: "float", nullable: true },
    { name: "tags", type: "array", nullable: true },
    { name: "raw", type: "bytes", nullable: true },
  ],
};

describe("discoveryHints", () => {
  it("reads the object and field-list hints of the declarations", () => {
    const { hints } = hintsOf("source.postgres");
    expect(hints.connection).toEqual({ field: "connection", connectionType: "postgres" });
    expect(hints.object).toEqual({ field: "table", list: false });
    expect(hints.fields).toEqual({
      field: "columns",
      types: ["string", "int", "float", "boolean", "timestamp", "json"],
      required: false,
    });
  });

  it("knows a list of names (CDC tables) and nodes that only name an object", () => {
    expect(hintsOf("source.postgres-cdc").hints.object).toEqual({ field: "tables", list: true });
    const sink = hintsOf("sink.postgres").hints;
    expect(sink.object).toEqual({ field: "table", list: false });
    expect(sink.fields).toBeUndefined();
  });

  it("finds hints on every node that reads or writes a discoverable object", () => {
    const objectFields = Object.fromEntries(
      catalog
        .list()
        .map((def) => [def.type, discoveryHints(configForm(configJsonSchema(def)))] as const)
        .filter(([, hints]) => canApplyDiscovery(hints))
        .map(([type, hints]) => [type, [hints.object?.field, hints.fields?.field]]),
    );
    expect(objectFields).toMatchObject({
      "source.postgres": ["table", "columns"],
      "source.postgres-cdc": ["tables", "columns"],
      "transform.lookup": ["table", "fields"],
      "sink.postgres": ["table", undefined],
      "source.mariadb": ["table", "columns"],
      "sink.mariadb": ["table", undefined],
      "source.redis-stream": ["stream", "fields"],
      "sink.redis-stream": ["stream", undefined],
      "source.nats-jetstream": ["stream", "fields"],
      "source.rabbitmq": ["queue", "fields"],
      "source.mqtt": ["topic", "fields"],
      "sink.mqtt": ["topic", undefined],
    });
    // Every node with hints also names its connection, so the inspector knows what to browse.
    for (const def of catalog.list()) {
      const hints = discoveryHints(configForm(configJsonSchema(def)));
      if (canApplyDiscovery(hints)) expect(hints.connection, def.type).toBeDefined();
    }
  });
});

describe("applyDiscovery", () => {
  it("names the object and declares its fields with types the node takes, leaving the rest", () => {
    const { def, hints } = hintsOf("source.postgres");
    const config = { connection: "warehouse", table: "old", cursor: "id", columns: ["x"] };
    const next = applyDiscovery(config, hints, orders);
    expect(next).toEqual({
      connection: "warehouse",
      table: "public.orders",
      cursor: "id",
      columns: [
        { name: "id", type: "int", nullable: false },
        { name: "amount", type: "float", nullable: true },
        { name: "tags", type: "json", nullable: true },
        { name: "raw", type: "string", nullable: true },
      ],
    });
    expect(config.table).toBe("old"); // not mutated
    expect(def.config.safeParse(next).success).toBe(true);
  });

  it("puts the name in a list where the field holds several", () => {
    const { def, hints } = hintsOf("source.postgres-cdc");
    const next = applyDiscovery({ connection: "warehouse", tables: ["a", "b"] }, hints, orders);
    expect(next.tables).toEqual(["public.orders"]);
    expect(def.config.safeParse(next).success).toBe(true);
  });

  it("opens the schema again when the object shows no fields, unless the list is required", () => {
    const { hints } = hintsOf("source.redis-stream");
    const empty = { kind: "stream", name: "clicks", fields: [] };
    expect(applyDiscovery({ connection: "r", stream: "a", fields: ["x"] }, hints, empty)).toEqual({
      connection: "r",
      stream: "clicks",
    });
    const lookup = hintsOf("transform.lookup").hints;
    expect(applyDiscovery({ table: "t", fields: ["x"] }, lookup, { kind: "table", name: "u" })).toEqual({
      table: "u",
      fields: ["x"],
    });
  });

  it("writes bare names where the list takes no types", () => {
    const hints = { fields: { field: "cols", types: [], required: false } };
    expect(applyDiscovery({}, hints, orders)).toEqual({ cols: ["id", "amount", "tags", "raw"] });
  });
});

describe("declaredType", () => {
  const types = ["string", "int", "json"];
  it("keeps known types and maps the rest", () => {
    expect(declaredType("int", types)).toBe("int");
    expect(declaredType("array", types)).toBe("json");
    expect(declaredType("timestamp", types)).toBe("string");
    expect(declaredType("array", ["string"])).toBe("string");
  });
});
