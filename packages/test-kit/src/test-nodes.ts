import type { SinkRuntime, TransformRuntime } from "@sluice/nodes/runtime-contract";
import { defineNode } from "@sluice/pipeline/node-definition";
import { field, t } from "@sluice/pipeline/record-schema";
import { z } from "zod";

// Node types used only by the engine's own tests: a keyed counter that reports at end of input, an operator that
// remembers the watermarks it saw, and a sink that keeps every record in state by a key field (exactly-once,
// readable straight from Redis).

export const keyCountDef = defineNode({
  type: "transform.key-count",
  version: 1,
  kind: "transform",
  title: "Key count (test)",
  category: "Test",
  icon: "sigma",
  summary: "test",
  docs: "",
  inputs: [{ name: "in" }],
  outputs: [{ name: "out" }],
  config: z.strictObject({ key: z.string() }),
  examples: [],
  delivery: {},
  keyBy: (c) => ({ in: [c.key] }),
  infer: ({ config }) => ({
    outputs: { out: { fields: [field(config.key, t.any, true), field("count", t.int)], open: false } },
  }),
  summarize: (c) => c.key,
});

export const keyCountRuntime: TransformRuntime<{ key: string }> = {
  kind: "transform",
  type: "transform.key-count",
  create(ctx) {
    const counts = ctx.state<number>("counts");
    const marks = ctx.state<number>("watermarks");
    const key = ctx.config.key;
    return {
      process(record) {
        const k = JSON.stringify(record[key] ?? null);
        counts.set(k, (counts.get(k) ?? 0) + 1);
      },
      onWatermark(wm) {
        marks.set("last", Number.isFinite(wm) ? wm : -1);
        marks.set("advances", (marks.get("advances") ?? 0) + 1);
      },
      onEnd(emit) {
        for (const [k, n] of [...counts.entries()].sort(([a], [b]) => a.localeCompare(b))) {
          emit({ [key]: JSON.parse(k), count: n });
        }
      },
    };
  },
};

export const collectDef = defineNode({
  type: "sink.collect",
  version: 1,
  kind: "sink",
  title: "Collect (test)",
  category: "Test",
  icon: "inbox",
  summary: "test",
  docs: "",
  inputs: [{ name: "in", multiple: true }],
  outputs: [],
  config: z.strictObject({ by: z.string() }),
  examples: [],
  delivery: { transactional: true },
  infer: () => ({ outputs: {} }),
  summarize: (c) => c.by,
});

export const collectRuntime: SinkRuntime<{ by: string }> = {
  kind: "sink",
  type: "sink.collect",
  async open(ctx) {
    const rows = ctx.state("rows");
    return {
      async write(records) {
        for (const r of records) rows.set(String(r[ctx.config.by]), r as never);
      },
      async close() {},
    };
  },
};

/** Fails every tenth record the first time it sees it, and lets it through on a second try (a replay). */
export const failOnceDef = defineNode({
  type: "transform.fail-once",
  version: 1,
  kind: "transform",
  title: "Fail once (test)",
  category: "Test",
  icon: "bug",
  summary: "test",
  docs: "",
  inputs: [{ name: "in" }],
  outputs: [{ name: "out" }],
  config: z.strictObject({}),
  examples: [],
  delivery: {},
  infer: ({ inputs }) => ({ outputs: { out: inputs.in ?? { fields: [], open: true } } }),
  summarize: () => "",
});

export const failOnceRuntime: TransformRuntime<Record<string, never>> = {
  kind: "transform",
  type: "transform.fail-once",
  create(ctx) {
    const tried = ctx.state<boolean>("tried");
    return {
      process(record, emit) {
        const id = String(record.id);
        if ((record.id as number) % 10 === 0 && !tried.has(id)) {
          tried.set(id, true);
          throw new Error(`record ${id} fails the first time`);
        }
        emit(record);
      },
    };
  },
};

/** Sends every record to the dead letters (one error object thrown again and again, so no stack is captured). */
export const rejectAllDef = defineNode({
  type: "transform.reject-all",
  version: 1,
  kind: "transform",
  title: "Reject all (test)",
  category: "Test",
  icon: "bug",
  summary: "test",
  docs: "",
  inputs: [{ name: "in" }],
  outputs: [{ name: "out" }],
  config: z.strictObject({}),
  examples: [],
  delivery: {},
  infer: ({ inputs }) => ({ outputs: { out: inputs.in ?? { fields: [], open: true } } }),
  summarize: () => "",
});

export const rejectAllError = new Error("every record is refused");

export const rejectAllRuntime: TransformRuntime<Record<string, never>> = {
  kind: "transform",
  type: "transform.reject-all",
  create: () => ({
    process() {
      throw rejectAllError;
    },
  }),
};

/** Enriches records asynchronously (as a lookup would), and fails records whose id ends in 7 one by one. */
export const asyncEnrichDef = defineNode({
  type: "transform.async-enrich",
  version: 1,
  kind: "transform",
  title: "Async enrich (test)",
  category: "Test",
  icon: "database",
  summary: "test",
  docs: "",
  inputs: [{ name: "in" }],
  outputs: [{ name: "out" }],
  config: z.strictObject({}),
  examples: [],
  delivery: {},
  infer: ({ inputs }) => ({ outputs: { out: inputs.in ?? { fields: [], open: true } } }),
  summarize: () => "",
});

export const asyncEnrichRuntime: TransformRuntime<Record<string, never>> = {
  kind: "transform",
  type: "transform.async-enrich",
  create() {
    return {
      async processBatch(records, emit, fail) {
        await new Promise((r) => setTimeout(r, 2));
        for (const { record } of records) {
          if ((record.id as number) % 10 === 7) fail(record, new Error(`no enrichment for ${record.id}`));
          else emit({ ...record, enriched: true });
        }
      },
    };
  },
};

/** Reads its connection and fails every record with an error that quotes the connection's password. */
export const leakyDef = defineNode({
  type: "transform.leaky",
  version: 1,
  kind: "transform",
  title: "Leaky (test)",
  category: "Test",
  icon: "droplet",
  summary: "test",
  docs: "",
  inputs: [{ name: "in" }],
  outputs: [{ name: "out" }],
  config: z.strictObject({ connection: z.string().meta({ widget: "connection", connectionType: "testdb" }) }),
  examples: [],
  delivery: {},
  infer: ({ inputs }) => ({ outputs: { out: inputs.in ?? { fields: [], open: true } } }),
  summarize: () => "",
});

export const leakyRuntime: TransformRuntime<{ connection: string }> = {
  kind: "transform",
  type: "transform.leaky",
  create(ctx) {
    const conn = ctx.services.connections.get<{ host: string; password: string }>(ctx.config.connection, "testdb");
    return {
      process(record) {
        ctx.log.warn(`connecting to postgres://app:${conn.password}@${conn.host}`);
        throw new Error(`login to postgres://app:${conn.password}@${conn.host}/db failed for record ${record.id}`);
      },
    };
  },
};
