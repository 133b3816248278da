import { mkdirSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { fileURLToPath } from "node:url";
import type { RunSnapshot } from "@sluice/pipeline/control/protocol";
import { BenchFleet, benchRedisUrl, newRunId, redisUsedMemory } from "./engine-harness";
import { SINK_NODE } from "./engine-queries";

// `npm run bench -- backpressure [--seconds 60] [--workers W] [--partitions P] [--source-rate R] [--json] [--save]`
//
// A source ten times faster than its sink, for a while: source.nexmark paced at R events/s (default 100,000; its
// bids, 46 of every 50 events, go on) → transform.dedupe by (auction, bidder, dateTime, price) within 1 s (keyed,
// so the bids cross a shuffle) → sink.discard with maxRate = bids / 10 (9,200 records/s by default). Without
// backpressure the shuffle streams would grow by ~83k records/s; with it the source must be held back. Every second
// the benchmark samples Redis `used_memory` (INFO memory) and the RSS of this process, which hosts the workers (one
// worker thread each, so it is every worker's memory at once — a stricter bound than per worker). At the end it
// prints the maxima against the configured bounds:
//
//   Redis growth (max − start) ≤ 64 MB    (--max-redis-mb)
//   worker process RSS        ≤ 512 MB   (--max-rss-mb)
//
// The run is unbounded; it is stopped after --seconds and the fleet closed without waiting for the backlog to drain.

const arg = (name: string, fallback: number) => {
  const at = process.argv.indexOf(name);
  if (at < 0) return fallback;
  const n = Number(process.argv[at + 1]);
  if (!Number.isFinite(n) || n <= 0) {
    console.error(`backpressure: ${name} must be a positive number`);
    process.exit(2);
  }
  return n;
};

const SECONDS = arg("--seconds", 60);
const WORKERS = Math.round(arg("--workers", 1));
const PARTITIONS = Math.round(arg("--partitions", 4));
const SOURCE_RATE = arg("--source-rate", 100_000);
/** Bids are 46 of every 50 events; the sink takes a tenth of them. */
const SINK_RATE = arg("--sink-rate", Math.round((SOURCE_RATE * 46) / 50 / 10));
const MAX_REDIS_MB = arg("--max-redis-mb", 64);
const MAX_RSS_MB = arg("--max-rss-mb", 512);
const JSON_OUT = process.argv.includes("--json");

const MB = 2 ** 20;
const round = (v: number, digits = 1) => Math.round(v * 10 ** digits) / 10 ** digits;

function definition() {
  return {
    apiVersion: "sluice/v1",
    kind: "Pipeline",
    metadata: { name: "bench-backpressure" },
    spec: {
      settings: { parallelism: PARTITIONS, delivery: "exactly-once" },
      nodes: [
        { id: "src", type: "source.nexmark", config: { rate: SOURCE_RATE } },
        {
          id: "dedupe",
          type: "transform.dedupe",
          config: { key: ["auction", "bidder", "dateTime", "price"], within: "1s" },
        },
        { id: SINK_NODE, type: "sink.discard", config: { maxRate: SINK_RATE } },
      ],
      edges: [
        { from: "src", fromPort: "bid", to: "dedupe" },
        { from: "dedupe", to: SINK_NODE },
      ],
    },
  };
}

/** Records in the shuffle streams right now (entries' records are not counted, only entries). */
async function shuffleEntries(fleet: BenchFleet, runId: string): Promise<number> {
  let n = 0;
  for (let p = 0; p < PARTITIONS; p++) {
    for (let q = 0; q < PARTITIONS; q++) {
      n += await fleet.redis.xlen(fleet.keys.shuffleStream({ runId, stage: 0, partition: p }, 0, q));
    }
  }
  return n;
}

interface Sample {
  t: number;
  redisMb: number;
  rssMb: number;
  source: number;
  sink: number;
  shuffleEntries: number;
}

export async function runBackpressureBench(): Promise<Record<string, unknown>> {
  const fleet = await BenchFleet.start({ workers: WORKERS });
  const samples: Sample[] = [];
  let last: RunSnapshot | undefined;
  try {
    const runId = newRunId("backpressure");
    const redisStart = await redisUsedMemory(fleet.redis);
    const rssStart = process.memoryUsage.rss();
    await fleet.submit(runId, definition());
    const t0 = Date.now();
    for (let second = 1; second <= SECONDS; second++) {
      await new Promise((r) => setTimeout(r, t0 + second * 1000 - Date.now()));
      const [redisBytes, snapshot, entries] = await Promise.all([
        redisUsedMemory(fleet.redis),
        fleet.snapshot(runId),
        shuffleEntries(fleet, runId),
      ]);
      last = snapshot;
      if (snapshot?.status === "failed") throw new Error(`the run failed: ${snapshot.error}`);
      const sample: Sample = {
        t: second,
        redisMb: round((redisBytes - redisStart) / MB, 2),
        rssMb: round(process.memoryUsage.rss() / MB),
        source: snapshot?.nodes.src?.out ?? 0,
        sink: snapshot?.nodes[SINK_NODE]?.in ?? 0,
        shuffleEntries: entries,
      };
      samples.push(sample);
      if (!JSON_OUT) {
        console.error(
          `${String(second).padStart(3)}s  redis +${sample.redisMb.toFixed(1)} MB  rss ${sample.rssMb.toFixed(0)} MB  source ${sample.source}  sink ${sample.sink}  shuffle entries ${entries}`,
        );
      }
    }
    await fleet.stop(runId);
    const redisMax = Math.max(...samples.map((s) => s.redisMb));
    const rssMax = Math.max(...samples.map((s) => s.rssMb));
    const half = samples.slice(Math.floor(samples.length / 2));
    const slope =
      half.length > 1 ? ((half.at(-1)!.redisMb - half[0]!.redisMb) / (half.at(-1)!.t - half[0]!.t)) * 60 : 0;
    const sourceRecords = last?.nodes.src?.out ?? 0;
    const sinkRecords = last?.nodes[SINK_NODE]?.in ?? 0;
    return {
      seconds: SECONDS,
      sourceRecords,
      sinkRecords,
      redisUsedMemoryMaxMb: round(redisStart / MB + redisMax),
      redisUsedMemoryStartMb: round(redisStart / MB),
      workerRssMaxMb: rssMax,
      workerRssStartMb: round(rssStart / MB),
      boundedRedis: redisMax <= MAX_REDIS_MB,
      boundedRss: rssMax <= MAX_RSS_MB,
      // Context.
      bounds: { redisGrowthMb: MAX_REDIS_MB, workerRssMb: MAX_RSS_MB },
      redisGrowthMaxMb: redisMax,
      redisGrowthSecondHalfMbPerMin: round(slope, 2),
      sourceRatePerSec: SOURCE_RATE,
      sinkMaxRatePerSec: SINK_RATE,
      // What the source would have emitted unchecked, and what the sink actually took per second.
      sourceWouldHaveEmitted: SOURCE_RATE * SECONDS,
      sourceEmittedPerSec: Math.round(sourceRecords / SECONDS),
      sinkTookPerSec: Math.round(sinkRecords / SECONDS),
      workers: WORKERS,
      partitions: PARTITIONS,
      samples,
      measuredAt: new Date().toISOString(),
      machine: `${cpus().length} × ${cpus()[0]?.model.trim() ?? "?"}, Node ${process.version}, Redis at ${benchRedisUrl()}`,
    };
  } finally {
    await fleet.close();
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const result = await runBackpressureBench();
  console.log(JSON.stringify(result, null, JSON_OUT ? undefined : 2));
  if (process.argv.includes("--save")) {
    const dir = fileURLToPath(new URL("./results/", import.meta.url));
    mkdirSync(dir, { recursive: true });
    writeFileSync(`${dir}backpressure-${SECONDS}s.json`, `${JSON.stringify(result, null, 2)}\n`);
  }
  process.exit(result.boundedRedis && result.boundedRss ? 0 : 1);
}
