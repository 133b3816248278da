import { mkdirSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { fileURLToPath } from "node:url";
import { emptyBucket, type FigureBucket } from "@sluice/api/history/figure-buckets";
import { pipelineHistory } from "@sluice/api/history/history-query";
import { DEFAULT_HISTORY_RETENTION_MS, type Resolution } from "@sluice/api/history/history-retention";
import { upsertBuckets } from "@sluice/api/history/history-store";
import { createDb, type Db } from "@sluice/db/client";
import { createTestDatabase } from "@sluice/scripts/lib/test-db";
import { type LiveResult, measureLiveFigures } from "./metrics-live";
import { measureOverhead, type OverheadResult } from "./metrics-overhead";

// `npm run bench -- metrics [--json] [--only overhead|live|history] [--nodes 20] [--days 7] [--repeat 20]
//                            [--events 5000000] [--pairs 3] [--clients 200] [--seconds 30] [--save]`
//
// Issue 14's figures, from three parts:
//
// - overheadPct (metrics-overhead.ts): Nexmark q1 on the engine with the per-second node figures on vs off
//   (SLUICE_NODE_FIGURES), --pairs rounds of each, interleaved, --events events each; the medians of events/s.
//   Target ≤ 3 % slower.
// - sseClients, maxUpdateDelayMs, webCpuCores (metrics-live.ts): the real app (next start + a worker on a fresh
//   database) and --clients SSE subscriptions to one run's runs.figures from another process for --seconds: the
//   clients that got every second's update within 1 s of the second's end, the worst delay, and the web server's CPU
//   over the window. Targets: all clients, ≤ 1,000 ms, < 1 core.
// - historyQueryMs, bytesPerNodeDay (below).
//
// --save also writes the result to bench/results/metrics-<clients>c-<nodes>n-<days>d.json.
//
// History (issue 14): the storage a node's figure history takes per day, and the time `pipelines.history` takes to
// read a 7-day chart of a 20-node pipeline. Both on synthetic rolled-up buckets written straight into a fresh
// database (a copy of the test template, on the local PostgreSQL of SLUICE_TEST_DATABASE_URL / DATABASE_URL):
//
// - bytesPerNodeDay: one run of --nodes nodes in a chain (so --nodes − 1 shuffle edges) gets a full day of buckets at
//   every resolution (8,640 × 10 s, 1,440 × 1 min and 24 × 1 h buckets), then the growth of
//   pg_total_relation_size (heap, TOAST and primary-key index) of RunFigureBucket, over the nodes (each with the
//   edge out of it).
// - historyQueryMs: a second run with what the default retention holds after --days of running (10 s buckets for
//   the last day, 1 min buckets for every day, 1 h buckets for every day), then the median of --repeat calls of the
//   pipelines.history service for the last --days (the tRPC layer and HTTP not included). Target: ≤ 150 ms.

const arg = (name: string, fallback: number) => {
  const at = process.argv.indexOf(name);
  if (at < 0) return fallback;
  const n = Number(process.argv[at + 1]);
  if (!Number.isInteger(n) || n <= 0) {
    console.error(`metrics: ${name} must be a positive whole number`);
    process.exit(2);
  }
  return n;
};

const NODES = arg("--nodes", 20);
const DAYS = arg("--days", 7);
const REPEAT = arg("--repeat", 20);
const EVENTS = arg("--events", 5_000_000);
const PAIRS = arg("--pairs", 3);
const CLIENTS = arg("--clients", 200);
const SECONDS = arg("--seconds", 30);
const JSON_OUT = process.argv.includes("--json");
const SAVE = process.argv.includes("--save");
const ONLY = (() => {
  const at = process.argv.indexOf("--only");
  if (at < 0) return undefined;
  const part = process.argv[at + 1];
  if (part !== "overhead" && part !== "live" && part !== "history") {
    console.error("metrics: --only takes overhead, live or history");
    process.exit(2);
  }
  return part;
})();
const runs = (part: "overhead" | "live" | "history") => ONLY === undefined || ONLY === part;
const DAY = 86_400;

/** A deterministic pseudo-random stream, so every run of the benchmark writes the same figures. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1_664_525 + 1_013_904_223) >>> 0;
    return s / 2 ** 32;
  };
}

const nodeIds = Array.from({ length: NODES }, (_, i) => `node_${i}`);
const edgeIds = nodeIds.slice(1).map((to, i) => `${nodeIds[i]}.out->${to}.in`);

/** A bucket as busy as a node taking ~1,000 records/s in batches whose latency spreads over a few log buckets. */
function bucketAt(start: number, width: number, next: () => number): FigureBucket {
  const b = emptyBucket(start);
  for (const id of nodeIds) {
    const records = Math.round(width * (900 + 200 * next()));
    const latency: Record<number, number> = {};
    const spread = width >= 60 ? 12 : 6;
    for (let k = 0; k < spread; k++) latency[40 + Math.floor(next() * 24)] = Math.ceil(width * 2 * next());
    b.nodes.set(id, {
      recordsIn: records,
      recordsOut: records - Math.round(next() * 10),
      errors: next() < 0.1 ? 1 : 0,
      latency,
      watermark: start * 1000 + width * 1000 - Math.round(next() * 5000),
      maxWatermarkLagMs: Math.round(1000 + next() * 5000),
      maxStateKeys: Math.round(10_000 + next() * 1000),
      maxInputLag: Math.round(next() * 500),
      // A chain of transforms: no source offsets, as most nodes of a pipeline.
      maxOffsetLag: null,
      offsetLagUnit: null,
    });
  }
  for (const id of edgeIds) {
    b.edges.set(id, {
      sent: Math.round(width * 1000 * next()),
      maxBacklog: Math.round(next() * 2000),
      backpressuredSeconds: next() < 0.05 ? 1 : 0,
    });
  }
  return b;
}

async function seed(db: Db, runId: string, resolution: Resolution, from: number, to: number): Promise<void> {
  const next = random(resolution * 7919 + from);
  let batch: FigureBucket[] = [];
  for (let start = from; start < to; start += resolution) {
    batch.push(bucketAt(start, resolution, next));
    // 500 buckets a statement: one JSON parameter of a few hundred kB.
    if (batch.length >= 500) {
      await upsertBuckets(db, runId, resolution, batch);
      batch = [];
    }
  }
  if (batch.length > 0) await upsertBuckets(db, runId, resolution, batch);
}

async function newRun(db: Db, label: string): Promise<{ runId: string; pipelineId: string; workspaceId: string }> {
  const user = await db.user.create({
    data: { email: `${label}-${Date.now()}@bench.test`, name: "Bench", passwordHash: "-" },
  });
  const workspace = await db.workspace.create({ data: { name: label, slug: `${label}-${Date.now()}` } });
  const pipeline = await db.pipeline.create({
    data: { workspaceId: workspace.id, name: label, createdById: user.id, latestVersion: 1 },
  });
  const version = await db.pipelineVersion.create({
    data: { pipelineId: pipeline.id, number: 1, definition: {}, authorId: user.id },
  });
  const run = await db.run.create({
    data: {
      workspaceId: workspace.id,
      pipelineId: pipeline.id,
      versionId: version.id,
      startedById: user.id,
      status: "RUNNING",
      startedAt: new Date((Math.floor(Date.now() / 1000) - DAYS * DAY) * 1000),
    },
  });
  return { runId: run.id, pipelineId: pipeline.id, workspaceId: workspace.id };
}

async function tableBytes(db: Db): Promise<number> {
  const [row] = await db.$queryRaw<{ bytes: number }[]>`
    SELECT pg_total_relation_size('"RunFigureBucket"')::float8 AS bytes`;
  return row!.bytes;
}

interface HistoryResult {
  historyQueryMs: number;
  historyQueryMaxMs: number;
  historyQueryResolution: number;
  historyQueryPoints: number;
  bytesPerNodeDay: number;
  bytesPerBucketRow: number;
}

async function measureHistory(): Promise<HistoryResult> {
  const database = await createTestDatabase("bench_metrics", { namePrefix: "sluice_bench" });
  const db = createDb(database.url, { poolSize: 4 });
  try {
    const now = Math.floor(Date.now() / 3_600_000) * 3600;

    // A day of one pipeline's figures at every resolution.
    const day = await newRun(db, "day");
    const empty = await tableBytes(db);
    for (const r of [10, 60, 3600] as const) await seed(db, day.runId, r, now - DAY, now);
    await db.$executeRawUnsafe(`VACUUM ANALYZE "RunFigureBucket"`);
    const bytesPerNodeDay = Math.round(((await tableBytes(db)) - empty) / NODES);

    // What the default retention holds after DAYS of running, then the chart of those days.
    const week = await newRun(db, "week");
    await seed(db, week.runId, 10, now - DAY, now);
    await seed(db, week.runId, 60, now - DAYS * DAY, now);
    await seed(db, week.runId, 3600, now - DAYS * DAY, now);
    await db.$executeRawUnsafe(`VACUUM ANALYZE "RunFigureBucket"`);
    const deps = { db, retention: DEFAULT_HISTORY_RETENTION_MS, now: () => now * 1000 };
    const input = { pipelineId: week.pipelineId, from: (now - DAYS * DAY) * 1000, to: now * 1000 };
    const first = await pipelineHistory(deps, week.workspaceId, input);
    const times: number[] = [];
    for (let i = 0; i < REPEAT; i++) {
      const t0 = performance.now();
      await pipelineHistory(deps, week.workspaceId, input);
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    const points = first.nodes[nodeIds[0]!]?.t.length ?? 0;
    return {
      historyQueryMs: Math.round(times[Math.floor(times.length / 2)]! * 10) / 10,
      historyQueryMaxMs: Math.round(times[times.length - 1]! * 10) / 10,
      historyQueryResolution: first.resolution,
      historyQueryPoints: points * (Object.keys(first.nodes).length + Object.keys(first.edges).length),
      bytesPerNodeDay,
      /** A bucket's row (all nodes and edges of the pipeline) on average; a day has 8,640 + 1,440 + 24 of them. */
      bytesPerBucketRow: Math.round((bytesPerNodeDay * NODES) / (8640 + 1440 + 24)),
    };
  } finally {
    await db.$disconnect();
    await database.drop();
  }
}

// The engine rounds first: they want the machine as quiet as it gets, without the app running beside them.
const overhead: OverheadResult | undefined = runs("overhead")
  ? measureOverhead({ events: EVENTS, pairs: PAIRS })
  : undefined;
const live: LiveResult | undefined = runs("live")
  ? await measureLiveFigures({ clients: CLIENTS, seconds: SECONDS })
  : undefined;
const history: HistoryResult | undefined = runs("history") ? await measureHistory() : undefined;

const result = {
  overheadPct: overhead?.overheadPct ?? null,
  sseClients: live?.sseClients ?? null,
  maxUpdateDelayMs: live?.maxUpdateDelayMs ?? null,
  webCpuCores: live?.webCpuCores ?? null,
  historyQueryMs: history?.historyQueryMs ?? null,
  bytesPerNodeDay: history?.bytesPerNodeDay ?? null,
  overhead: overhead ?? null,
  live: live ?? null,
  history: history ?? null,
  nodes: NODES,
  days: DAYS,
  measuredAt: new Date().toISOString(),
  machine: `${cpus().length} × ${cpus()[0]?.model.trim() ?? "?"}, Node ${process.version}`,
};
if (JSON_OUT) console.log(JSON.stringify(result));
else {
  if (overhead) {
    console.log(
      `node figures: q1 ${overhead.medianOnEventsPerSec.toLocaleString("en-US")} events/s on vs ${overhead.medianOffEventsPerSec.toLocaleString("en-US")} off (medians of ${PAIRS}): ${overhead.overheadPct} % slower (target ≤ 3 %)`,
    );
  }
  if (live) {
    console.log(
      `live figures: ${live.sseClients} of ${live.clients} SSE clients got every update within 1 s (worst ${live.maxUpdateDelayMs} ms); web server ${live.webCpuCores} cores over ${live.windowSeconds} s (target < 1)`,
    );
  }
  if (history) {
    console.log(
      `history storage: ${history.bytesPerNodeDay} bytes per node-day (a node and its outgoing edge, all resolutions)`,
    );
    console.log(
      `history query: ${DAYS}-day chart of ${NODES} nodes at ${history.historyQueryResolution} s: median ${history.historyQueryMs} ms over ${REPEAT} (max ${history.historyQueryMaxMs} ms; target ≤ 150 ms)`,
    );
  }
}
if (SAVE) {
  const dir = fileURLToPath(new URL("./results/", import.meta.url));
  mkdirSync(dir, { recursive: true });
  writeFileSync(`${dir}metrics-${CLIENTS}c-${NODES}n-${DAYS}d.json`, `${JSON.stringify(result, null, 2)}\n`);
}
