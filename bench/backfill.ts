import { randomBytes } from "node:crypto";
import {
  type BackfillDeps,
  compareBackfill,
  getBackfill,
  startBackfill,
  swapBackfill,
} from "@sluice/api/backfills/backfill-service";
import { createConnection } from "@sluice/api/connections/connection-service";
import { createPipeline } from "@sluice/api/pipelines/pipeline-service";
import { createDb } from "@sluice/db/client";
import { FleetWorker } from "@sluice/engine/fleet-worker";
import { connectRedis } from "@sluice/engine/redis-connection";
import { catalog } from "@sluice/nodes/catalog";
import { connectionCatalog } from "@sluice/nodes/connections";
import { DestinationPolicy } from "@sluice/nodes/destination-policy";
import { runtimes } from "@sluice/nodes/runtimes";
import { createKeys } from "@sluice/pipeline/control/keys";
import { QUEUE_CONTROL } from "@sluice/pipeline/control/protocol";
import { emptyDefinition } from "@sluice/pipeline/definition";
import { createTestDatabase, ensureTemplateDatabase, testRedisUrl } from "@sluice/scripts/lib/test-db";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import pg from "pg";

// `npm run bench -- backfill [--rows N] [--parallelism P] [--batch B] [--mode upsert|insert] [--json]` (issue 17): a bounded
// source.postgres over a table of N rows (1 million by default) → sink.postgres, backfilled through the backfill
// service exactly as the API starts one — the shadow table made LIKE the live one, the run on a fleet worker in this
// process — then compared with the live table (which holds the same rows) and swapped in. Prints the fill's rows/s
// (target ≥ 100,000), the compare's and the swap's times. Everything lives in databases and a Redis prefix of its
// own, removed at the end.

interface Options {
  rows: number;
  parallelism: number;
  batch: number;
  mode: "upsert" | "insert";
  json: boolean;
}

function options(argv: readonly string[]): Options {
  const value = (name: string, fallback: number) => {
    const i = argv.indexOf(name);
    if (i < 0) return fallback;
    const n = Number(argv[i + 1]);
    if (!Number.isInteger(n) || n < 1) throw new Error(`${name}: a whole number from 1 (got ${argv[i + 1]})`);
    return n;
  };
  const m = argv.indexOf("--mode");
  const mode = m < 0 ? "upsert" : argv[m + 1];
  if (mode !== "upsert" && mode !== "insert") throw new Error(`--mode: upsert or insert (got ${mode})`);
  return {
    rows: value("--rows", 1_000_000),
    parallelism: value("--parallelism", 2),
    batch: value("--batch", 10_000),
    mode,
    json: argv.includes("--json"),
  };
}

const COLUMNS = `id bigint PRIMARY KEY, user_id bigint NOT NULL, country text NOT NULL, amount double precision NOT NULL,
  ts timestamptz NOT NULL, note text`;

async function main(): Promise<void> {
  const o = options(process.argv.slice(2));
  await ensureTemplateDatabase();
  const sluice = await createTestDatabase("bench_backfill", { namePrefix: "sluice_bench" });
  const target = await createTestDatabase("bench_backfill_target", { namePrefix: "sluice_bench" });
  const redisUrl = testRedisUrl();
  const prefix = `bench-backfill-${randomBytes(4).toString("hex")}`;
  const keys = createKeys(prefix);
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
  // BullMQ leaves a connection it was handed open on close: ours to end, or the process never exits.
  const queueConnection = redis.duplicate();
  const controlQueue = new Queue(QUEUE_CONTROL, { connection: queueConnection, prefix: keys.bullPrefix });
  const db = createDb(sluice.url, { poolSize: 4 });
  const secretKey = randomBytes(32);
  const allow = "127.0.0.0/8,[::1]/128";
  const worker = new FleetWorker({
    connect: () => connectRedis(redisUrl, "bench-backfill-worker"),
    prefix,
    catalog,
    runtimes,
    workerId: "bench-backfill-w1",
    secretKey,
    destinations: DestinationPolicy.fromSettings(allow),
  });
  const sql = new pg.Client({ connectionString: target.url });
  try {
    await sql.connect();
    const filled = performance.now();
    await sql.query(`CREATE TABLE events (${COLUMNS})`);
    await sql.query(
      `INSERT INTO events SELECT g, g % 10000, (ARRAY['DE','FR','US','GB','JP'])[1 + g % 5], (g % 997) * 0.01,
         timestamptz '2024-01-01' + g * interval '1 second', 'note ' || g FROM generate_series(1, $1) g`,
      [o.rows],
    );
    await sql.query(`CREATE TABLE serving (${COLUMNS})`);
    await sql.query("INSERT INTO serving SELECT * FROM events");
    await sql.query("VACUUM ANALYZE events");
    await sql.query("VACUUM ANALYZE serving");
    const setupMs = performance.now() - filled;

    await worker.start();
    const deps: BackfillDeps = {
      db,
      redis,
      keys,
      controlQueue,
      catalog,
      connectionTypes: connectionCatalog,
      secretKey,
      destinations: DestinationPolicy.fromSettings(allow, { databaseUrl: sluice.url, redisUrl }),
    };
    const user = await db.user.create({
      data: { email: `${prefix}@example.com`, name: "Bench", passwordHash: "unused" },
    });
    const workspace = await db.workspace.create({ data: { name: "Bench", slug: prefix } });
    await db.membership.create({ data: { userId: user.id, workspaceId: workspace.id, role: "OWNER" } });
    const actor = { workspaceId: workspace.id, userId: user.id };
    const u = new URL(target.url);
    await createConnection({ ...deps }, actor, {
      name: "warehouse",
      type: "postgres",
      config: {
        host: u.hostname,
        port: Number(u.port || 5432),
        database: target.name,
        user: decodeURIComponent(u.username || "postgres"),
        ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
      },
    });
    const def = emptyDefinition("bench-backfill");
    def.spec.settings.parallelism = o.parallelism;
    // Records per engine batch (one commit, one sink transaction): the setting a bulk pipeline raises.
    def.spec.settings.batchSize = o.batch;
    def.spec.nodes.push(
      {
        id: "rows",
        type: "source.postgres",
        config: {
          connection: "warehouse",
          table: "events",
          cursor: "id",
          batchSize: 10_000,
          ...(o.parallelism > 1 ? { partitionBy: "id" } : {}),
        },
      },
      {
        id: "out",
        type: "sink.postgres",
        config: {
          connection: "warehouse",
          table: "serving",
          mode: o.mode,
          ...(o.mode === "upsert" ? { key: ["id"] } : {}),
        },
      },
    );
    def.spec.edges.push({ from: "rows", to: "out" });
    const { id: pipelineId } = await createPipeline(db, actor, {
      name: "Bench backfill",
      description: "",
      definition: def,
    });

    // The bounded table read ends by itself; the replay names the whole cursor range, as a person would.
    const t0 = performance.now();
    const started = await startBackfill(deps, actor, {
      pipelineId,
      sinkNodeId: "out",
      replay: { rows: { from: { offset: "0" }, to: { offset: String(o.rows) } } },
    });
    let view = await getBackfill(deps, workspace.id, started.id);
    while (view.state === "FILLING") {
      await new Promise((r) => setTimeout(r, 100));
      view = await getBackfill(deps, workspace.id, started.id);
    }
    const fillMs = performance.now() - t0;
    if (view.state !== "FILLED") throw new Error(`the backfill ended ${view.state}: ${view.error}`);

    const t1 = performance.now();
    const compared = await compareBackfill(deps, workspace.id, { id: started.id, ignoreColumns: [] });
    const compareMs = performance.now() - t1;
    const t2 = performance.now();
    const swapped = await swapBackfill(deps, workspace.id, { id: started.id, keepUnmatched: true });
    const swapMs = performance.now() - t2;
    const liveRows = Number((await sql.query<{ n: string }>("SELECT count(*) AS n FROM serving")).rows[0]!.n);

    const result = {
      bench: "backfill",
      rows: o.rows,
      parallelism: o.parallelism,
      batchSize: o.batch,
      mode: o.mode,
      setupMs: Math.round(setupMs),
      written: view.written,
      fillMs: Math.round(fillMs),
      fillRowsPerSec: Math.round((o.rows / fillMs) * 1000),
      compareMs: Math.round(compareMs),
      compareEqual: compared.comparison?.equal ?? false,
      swapMs: Math.round(swapMs),
      carried: swapped.carried,
      liveRowsAfterSwap: liveRows,
      targetRowsPerSec: 100_000,
    };
    if (liveRows !== o.rows) throw new Error(`the live table holds ${liveRows} rows after the swap, not ${o.rows}`);
    if (o.json) console.log(JSON.stringify(result));
    else {
      console.log(`backfill of ${o.rows.toLocaleString("en-US")} rows (${o.mode}, parallelism ${o.parallelism}):`);
      console.log(
        `  fill    ${result.fillMs} ms  ${result.fillRowsPerSec.toLocaleString("en-US")} rows/s (target ≥ 100,000)`,
      );
      console.log(`  compare ${result.compareMs} ms  (${result.compareEqual ? "equal" : "different"})`);
      console.log(`  swap    ${result.swapMs} ms`);
    }
  } finally {
    await worker.close().catch(() => {});
    await sql.end().catch(() => {});
    await controlQueue.obliterate({ force: true }).catch(() => {});
    await controlQueue.close().catch(() => {});
    queueConnection.disconnect();
    let cursor = "0";
    do {
      const [next, found] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
      cursor = next;
      if (found.length > 0) await redis.del(...found);
    } while (cursor !== "0");
    redis.disconnect();
    await db.$disconnect();
    await sluice.drop();
    await target.drop();
  }
}

await main();
