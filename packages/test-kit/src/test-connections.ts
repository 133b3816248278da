import { createHash } from "node:crypto";
import { catalog as buildCatalog } from "@sluice/nodes/catalog";
import { type ConnectionRuntime, createConnectionRuntimeRegistry } from "@sluice/nodes/connection-runtime";
import type { RuntimeRegistry, SourceRuntime } from "@sluice/nodes/runtime-contract";
import { NodeConfigError } from "@sluice/nodes/runtime-expressions";
import { runtimes as buildRuntimes } from "@sluice/nodes/runtimes";
import { createConnectionCatalog, defineConnectionType } from "@sluice/pipeline/connection-definition";
import { createCatalog, defineNode } from "@sluice/pipeline/node-definition";
import { field, t } from "@sluice/pipeline/record-schema";
import { z } from "zod";

// A connection type and a source node that uses it, for tests of the API and the CLI (the real connection types arrive
// with the connectors). The runtime misbehaves on purpose by host name, the way drivers do: it quotes the password
// in a connection URL, throws with it, hangs, and hands it back in discovered names and sample rows.

export const testDbType = defineConnectionType({
  type: "testdb",
  title: "Test DB",
  icon: "database",
  summary: "A pretend database for the API's tests.",
  docs: "",
  config: z.strictObject({
    host: z.string().min(1).meta({ label: "Host" }),
    port: z.number().int().min(1).max(65535).default(5432),
    user: z.string().min(1),
    password: z.string().min(1).meta({ secret: true, label: "Password" }),
    token: z.string().min(1).optional().meta({ secret: true }),
  }),
  examples: [{ title: "Local", config: { host: "localhost", user: "sluice", password: "example" } }],
});
export type TestDbConfig = z.output<typeof testDbType.config>;

export const otherType = defineConnectionType({
  type: "othermq",
  title: "Other MQ",
  icon: "inbox",
  summary: "Another pretend system, for type mismatches.",
  docs: "",
  config: z.strictObject({ url: z.string().min(1) }),
  examples: [],
});

export const testConnectionTypes = createConnectionCatalog([testDbType, otherType]);

const b64 = (s: string) => Buffer.from(s).toString("base64");

const testDbRuntime: ConnectionRuntime<TestDbConfig> = {
  type: "testdb",
  async test(c, signal) {
    switch (c.host) {
      case "refused.test":
        return {
          ok: false,
          problem: "host-unreachable",
          message: `could not connect to testdb://${c.user}:${encodeURIComponent(c.password)}@${c.host}:${c.port}: connection refused`,
        };
      case "throws.test":
        throw new Error(`handshake failed for password "${c.password}" (sent as ${b64(c.password)})`);
      case "hang.test":
        // Ignores the signal on purpose: the API's deadline must not depend on the runtime honouring it.
        return new Promise(() => {});
      case "slow.test":
        await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
        return { ok: false, problem: "timeout", message: "aborted" };
      default:
        return {
          ok: true,
          message: `connected to ${c.host}:${c.port} as ${c.user}`,
          details: { server: "testdb 1.0", session: `${c.user}/${c.password}`, token: c.token ?? null },
        };
    }
  },
  async discover(c, request) {
    if (c.host === "refused.test") throw new Error(`connect ECONNREFUSED testdb://${c.user}:${c.password}@${c.host}`);
    const objects = [
      { kind: "table", name: "orders", fields: [{ name: "id", type: "int", nullable: false }], rows: 3 },
      { kind: "table", name: `audit_${c.password}`, rows: 0 },
    ];
    return {
      objects,
      ...(request.object && request.sample
        ? {
            sample: Array.from({ length: 5 }, (_, i) => ({ id: i + 1, note: i === 0 ? `pw=${c.password}` : "fine" })),
          }
        : {}),
    };
  },
};

export const testConnectionRuntimes = createConnectionRuntimeRegistry([testDbRuntime]);

/** The digest of a password: what the test source emits to prove it received the secret, without emitting it. */
export function digest(secret: string): string {
  return createHash("sha256").update(secret).digest("hex");
}

export const testDbSourceDef = defineNode({
  type: "source.testdb",
  version: 1,
  kind: "source",
  title: "Test DB table",
  category: "Test",
  icon: "database",
  summary: "test source reading through a testdb connection",
  docs: "",
  inputs: [],
  outputs: [{ name: "out" }],
  config: z.strictObject({
    connection: z.string().min(1).meta({ widget: "connection", connectionType: "testdb" }),
    table: z.string().min(1).default("orders"),
    rows: z.number().int().min(0).default(10),
  }),
  examples: [],
  delivery: { replayable: true },
  infer: () => ({ outputs: { out: { fields: [field("n", t.int), field("digest", t.string)], open: false } } }),
  summarize: (c) => c.table,
});

type SourceConfig = z.output<typeof testDbSourceDef.config>;

const testDbSourceRuntime: SourceRuntime<SourceConfig> = {
  kind: "source",
  type: "source.testdb",
  async open(ctx, from) {
    const c = ctx.services.connections.get<TestDbConfig>(ctx.config.connection, "testdb");
    if (c.host === "refused.test") {
      throw new NodeConfigError(
        ctx.nodeId,
        "connection",
        `cannot connect to ${c.host}:${c.port} as ${c.user}: connection refused`,
      );
    }
    ctx.log.info("connected", { host: c.host, user: c.user, table: ctx.config.table });
    const total = ctx.partition === 0 ? ctx.config.rows : 0;
    let emitted = typeof from === "number" ? from : 0;
    return {
      async read(max) {
        const n = Math.min(max, total - emitted);
        const records = Array.from({ length: n }, (_, k) => ({ n: emitted + k, digest: digest(c.password) }));
        emitted += n;
        return { records, offset: emitted, end: emitted >= total };
      },
      async close() {},
    };
  },
};

/** The build's node types plus the test source. */
export const testNodeCatalog = createCatalog([...buildCatalog.list(), testDbSourceDef]);

export const testNodeRuntimes: RuntimeRegistry = {
  get: (type) => (type === testDbSourceRuntime.type ? (testDbSourceRuntime as never) : buildRuntimes.get(type)),
};

/** A pipeline: the test source through `connection`, into a console sink. */
export function testDbPipeline(connection: string, rows = 10) {
  return {
    apiVersion: "sluice/v1" as const,
    kind: "Pipeline" as const,
    metadata: { name: "testdb-sync" },
    spec: {
      settings: { parallelism: 1 },
      parameters: [],
      nodes: [
        { id: "src", type: "source.testdb", config: { connection, rows } },
        { id: "out", type: "sink.console", config: {} },
      ],
      edges: [{ from: "src", to: "out" }],
    },
  };
}
