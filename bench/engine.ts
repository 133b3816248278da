import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import {
  digestText,
  emptyHistogram,
  LATENCY_BUCKETS,
  type LatencyHistogram,
  latencyPercentile,
  type RecordDigest,
} from "@sluice/nodes/sinks/discard-digest";
import { optionValue } from "./bench-args";
import {
  BenchFleet,
  benchCommit,
  benchRedisUrl,
  newRunId,
  redisUsedMemory,
  startRunMeter,
  waitForQuiet,
} from "./engine-harness";
import { runLimit } from "./engine-limits";
import { FIXED_START_TIME, QUERIES, QUERY_SPECS, type QueryName, SINK_NODE } from "./engine-queries";
import { callsDelta, type RedisClientCounts, type RedisServerCounts, redisServerCounts } from "./redis-counter";

// `npm run bench -- engine --query q0|q1|q2|q5|q7|q8|latency --events N [--workers W] [--partitions P] [--json]`
//
// Runs a Nexmark query (engine-queries.ts) as a Sluice pipeline over N seeded events (source.nexmark, rate 0,
// fixed start time) into sink.discard, exactly-once, on W fleet workers of this process (one worker thread each;
// --inline: all on the main thread) against the local Redis (REDIS_URL, default redis://127.0.0.1:6379), under a
// key prefix of its own that is deleted afterwards. Then runs the same query as a plain loop (engine-limits.ts)
// and prints one JSON object:
//
//   seconds          run start (the run's startedAt) → completed (its finishedAt), read by polling the snapshot
//   eventsPerSec     events / seconds
//   cpuSeconds       workers: process.cpuUsage() delta over the run (all threads of this process, which are the
//                    workers and a 50 ms snapshot poll); redis: INFO cpu used_cpu_sys + used_cpu_user delta;
//                    otherProcesses: the machine's busy time (/proc/stat) − both, i.e. contention from elsewhere
//   p50Ms, p99Ms     from the sink's latency histogram (sink time − event time), paced runs only (--rate R > 0,
//                    where the start time is the wall clock at submission); the first --warmup seconds (default
//                    5) are left out. null in unpaced runs, where event time is synthetic.
//   outputHash       the sink's digest over all partitions, `<count>:<16 hex digits>`; outputCount its count
//   limit*           the same for the plain loop; limitOutputHash must equal outputHash
//
// and cost figures, so that a change that adds a Redis round trip or a command per batch shows without a
// stopwatch: the Redis ones are counted, not timed (over the same window as cpuSeconds, on the workers' own
// connections, see redis-counter.ts; the benchmark's polling is not in them), and the CPU one is per event:
//
//   redisCommandsPer1kEvents          commands the workers sent to Redis per 1,000 events (every command of a
//                                     pipeline or MULTI…EXEC, MULTI and EXEC included; one per EVALSHA)
//   redisRoundTripsPer1kEvents        round trips per 1,000 events: writes to the socket, where a pipeline or
//                                     transaction sent at once, a single command and a blocking read each count one
//   redisBytesWrittenPerEvent         request bytes the workers wrote to Redis per event, less the Lua scripts'
//                                     text ioredis sends once per connection (a fresh fleet's first run only)
//   workerCpuSecondsPerMillionEvents  cpuSeconds.workers × 1,000,000 / events
//
// They include the run's fixed costs (planning, start, finish: amortised over --events) and the fleet's
// time-driven traffic (per-second node figures, control and replay polls, heartbeats, BullMQ's blocking reads and
// lock renewals), which moves with the run's duration rather than its events. That part is also given on its
// own, as redisBackground{Commands,RoundTrips}Per1kEvents and redisBackgroundBytesWrittenPerEvent: commands to
// the keys of node figures (`:fig:`), run control (`{run}:meta`), dead-letter replay (`:replay`), the worker
// registry (`{workers}`) and BullMQ (`{bull}`), and the writes carrying them; what is left is the per-batch
// cost (in shuffled queries, q5/q7/q8, that includes the XREADs of the next stage, whose number per batch still
// depends a little on timing: a reader that keeps up reads fewer entries at a time). redisClientTotals has the raw counts. Beside them, Redis's own view
// over the same window, which includes the benchmark's 50 ms polling and any other client of the server (so it
// only cross-checks): redisServerCommandsPer1kEvents (INFO stats total_commands_processed, which also counts the
// commands Lua scripts run), redisServerBytesInPerEvent (total_net_input_bytes), redisServerCallsPer1kEvents
// (INFO commandstats, the ten commands called most).
//
// Other options: --rate R (events/s; default 0 = unpaced, 10,000 for --query latency), --seconds S (paced runs:
// events = R × S), --batch B (settings.batchSize), --repeat K (unpaced: K runs on the same fleet, the median by
// duration reported, all listed; every run's digest must be the same), --passes K (limit passes, best taken;
// default 2), --no-limit, --timeout S, --no-wait-quiet (by default each run first waits, up to 2 min, for a
// second in which other processes use < 0.15 core, since this machine is shared), --inline, --save (also write
// the JSON to bench/results/engine-<query>-<events>-w<W>-p<P>[-r<R>].json).

interface Args {
  query: QueryName;
  events: number;
  workers: number;
  partitions: number;
  rate: number;
  batchSize: number | undefined;
  warmup: number;
  passes: number;
  repeat: number;
  waitQuiet: boolean;
  limit: boolean;
  inline: boolean;
  json: boolean;
  save: boolean;
  timeoutMs: number;
}

function usage(message: string): never {
  console.error(`engine: ${message}`);
  console.error(
    "usage: npm run bench -- engine --query q0|q1|q2|q5|q7|q8|latency --events N [--workers W] [--partitions P] [--rate R --seconds S] [--batch B] [--json] [--save]",
  );
  process.exit(2);
}

function parseArgs(argv: readonly string[]): Args {
  const value = (name: string) => optionValue(argv, name, usage);
  const number = (name: string, fallback: number | undefined, min = 0) => {
    const v = value(name);
    if (v === undefined) return fallback;
    const n = Number(v.replace(/_/g, ""));
    if (!Number.isFinite(n) || n < min) usage(`${name} must be a number ≥ ${min}, not "${v}"`);
    return n;
  };
  const query = value("--query") ?? usage("--query is required");
  if (!(QUERIES as readonly string[]).includes(query)) usage(`unknown query "${query}"`);
  const q = query as QueryName;
  const rate = number("--rate", q === "latency" ? 10_000 : 0)!;
  const seconds = number("--seconds", undefined, 1);
  let events = number("--events", undefined, 1);
  if (events === undefined && seconds !== undefined && rate > 0) events = Math.round(rate * seconds);
  if (events === undefined) usage("give --events N (or, with --rate R, --seconds S)");
  const paced = rate > 0;
  return {
    query: q,
    events: Math.round(events),
    workers: Math.round(number("--workers", 1, 1)!),
    partitions: Math.round(number("--partitions", 4, 1)!),
    rate,
    batchSize: number("--batch", undefined, 1),
    warmup: number("--warmup", paced ? 5 : 0)!,
    passes: Math.round(number("--passes", 2, 1)!),
    // Paced runs differ in their start time (so in their events): one run each.
    repeat: paced ? 1 : Math.round(number("--repeat", 1, 1)!),
    waitQuiet: !argv.includes("--no-wait-quiet"),
    limit: !argv.includes("--no-limit"),
    inline: argv.includes("--inline"),
    json: argv.includes("--json"),
    save: argv.includes("--save"),
    timeoutMs: number("--timeout", 1800)! * 1000,
  };
}

function subtractHistograms(a: LatencyHistogram, b: LatencyHistogram): LatencyHistogram {
  const out = emptyHistogram();
  for (let i = 0; i < LATENCY_BUCKETS; i++) out.counts[i] = (a.counts[i] ?? 0) - (b.counts[i] ?? 0);
  out.missing = a.missing - b.missing;
  return out;
}

const round = (v: number, digits = 2) => Math.round(v * 10 ** digits) / 10 ** digits;
const percentile = (h: LatencyHistogram, q: number) => {
  const v = latencyPercentile(h.counts, q);
  return v === undefined ? null : round(v, 1);
};

/**
 * When the paced source began emitting, as the mean over its partitions: partition p emits its k-th record
 * (k from 0) at opened + k / (rate / P) seconds, so a committed offset o and the commit's time `at` give
 * opened ≈ at − (o − 1) / (rate / P).
 */
async function sourceOpenedAt(fleet: BenchFleet, runId: string, args: Args): Promise<number> {
  const perPartition = args.rate / args.partitions;
  let sum = 0;
  let n = 0;
  for (let partition = 0; partition < args.partitions; partition++) {
    const state = await fleet.redis.hgetall(fleet.keys.taskState({ runId, stage: 0, partition }));
    const offset = Number(state["o:src"] ?? 0);
    const at = Number(state.at ?? 0);
    if (offset < 1 || at === 0) continue;
    sum += at - ((offset - 1) / perPartition) * 1000;
    n++;
  }
  if (n === 0) throw new Error(`run ${runId}: no source partition has committed anything yet`);
  return sum / n;
}

interface RunSample {
  runId: string;
  /** Task partitions per worker (the last owner of each). */
  owners: Record<string, number>;
  startTime: number;
  seconds: number;
  cpuWorkers: number;
  cpuRedis: number;
  /** Other processes' CPU over the run (machine busy time − workers − Redis): should be near 0. */
  cpuOther: number | undefined;
  digest: RecordDigest;
  sinkPartitions: number;
  latency: LatencyHistogram;
  /** The latency histogram after the warm-up (paced runs), to subtract. */
  warm: LatencyHistogram | undefined;
  startDelayMs: number | undefined;
  errors: number;
  redisMemoryGrowth: number;
  loadAverage: number;
  /** Cores other processes kept busy in the second before the run. */
  busyBefore: number | undefined;
  /** What the workers' connections sent over the run. */
  redisClient: RedisClientCounts;
  /** Redis's INFO totals over the run (every client of the server). */
  redisServer: { commands: number; bytesIn: number; calls: [string, number][] };
}

/** One run of the query on the fleet: submitted, polled until it completes, its sink state read. */
async function measureRun(fleet: BenchFleet, args: Args, definitionAt: DefinitionAt): Promise<RunSample> {
  const paced = args.rate > 0;
  const runId = newRunId(args.query);
  const busyBefore = args.waitQuiet ? await waitForQuiet(fleet.redis) : undefined;
  const loadAverage = loadavg()[0] ?? 0;
  const redisMemoryBefore = await redisUsedMemory(fleet.redis);
  const meter = await startRunMeter(fleet);
  const server0 = await redisServerCounts(fleet.redis);
  const startTime = paced ? Date.now() : FIXED_START_TIME;
  // For profiles (--cpu-prof): the run's window on the monotonic clock V8's profiler stamps samples with.
  const markFrom = process.hrtime.bigint();
  await fleet.submit(runId, definitionAt(startTime, args.events));

  let warm: LatencyHistogram | undefined;
  let startDelayMs: number | undefined;
  let warming: Promise<void> | undefined;
  let redisMemoryMax = redisMemoryBefore;
  let lastProgress = 0;
  const snapshot = await fleet.waitForEnd(runId, {
    timeoutMs: args.timeoutMs,
    onPoll: async (s) => {
      const now = Date.now();
      if (
        s?.startedAt &&
        paced &&
        args.warmup > 0 &&
        warming === undefined &&
        now - s.startedAt >= args.warmup * 1000
      ) {
        warming = Promise.all([fleet.sinkTotals(runId, SINK_NODE), sourceOpenedAt(fleet, runId, args)]).then(
          ([t, openedAt]) => {
            warm = t.latency;
            startDelayMs = openedAt - startTime;
          },
        );
      }
      if (now - lastProgress >= 1000) {
        lastProgress = now;
        redisMemoryMax = Math.max(redisMemoryMax, await redisUsedMemory(fleet.redis));
        if (!args.json && s) {
          const counts = Object.entries(s.nodes)
            .map(([id, c]) => `${id} ${c.out || c.in}`)
            .join(" · ");
          process.stderr.write(`\r${s.status} ${((now - (s.startedAt ?? now)) / 1000).toFixed(1)}s · ${counts}   `);
        }
      }
    },
  });
  if (process.env.BENCH_PROFILE_MARKS) {
    console.error(`profile-window-us ${markFrom / 1000n} ${process.hrtime.bigint() / 1000n}`);
  }
  const { cpuWorkers, cpuRedis, cpuOther, redisClient } = await meter.stop();
  const server1: RedisServerCounts = await redisServerCounts(fleet.redis);
  if (!args.json) process.stderr.write("\n");
  await warming;
  if (snapshot.status !== "completed") {
    throw new Error(`run ${runId} ended ${snapshot.status}${snapshot.error ? `: ${snapshot.error}` : ""}`);
  }
  const totals = await fleet.sinkTotals(runId, SINK_NODE);
  const owners = await fleet.taskOwners(runId);
  return {
    runId,
    owners,
    startTime,
    seconds: ((snapshot.finishedAt ?? Date.now()) - (snapshot.startedAt ?? 0)) / 1000,
    cpuWorkers,
    cpuRedis,
    cpuOther,
    digest: totals.digest,
    sinkPartitions: totals.partitions,
    latency: totals.latency,
    warm,
    startDelayMs,
    errors: Object.values(snapshot.nodes).reduce((n, c) => n + c.errors, 0),
    redisMemoryGrowth: redisMemoryMax - redisMemoryBefore,
    loadAverage,
    busyBefore,
    redisClient,
    redisServer: {
      commands: server1.commands - server0.commands,
      bytesIn: server1.bytesIn - server0.bytesIn,
      calls: callsDelta(server1, server0),
    },
  };
}

/** Cores other processes kept busy on average during a run (0 when the machine does not tell). */
const contention = (s: RunSample) => (s.cpuOther === undefined ? 0 : s.cpuOther / s.seconds);
const CONTENDED = 0.15;
const clean = (s: RunSample) => contention(s) < CONTENDED;

/** Other processes' CPU seconds over the run, when the machine tells. */
const other = (s: RunSample) => (s.cpuOther === undefined ? {} : { otherProcesses: round(s.cpuOther) });

/** The run's cost figures per event (see the header). */
function costFigures(s: RunSample, events: number) {
  return {
    redisCommandsPer1kEvents: round((s.redisClient.commands * 1000) / events, 3),
    redisRoundTripsPer1kEvents: round((s.redisClient.roundTrips * 1000) / events, 3),
    redisBytesWrittenPerEvent: round(s.redisClient.bytesWritten / events, 2),
    workerCpuSecondsPerMillionEvents: round((s.cpuWorkers * 1e6) / events, 2),
  };
}

/** The part of the Redis cost figures that the fleet's timers and control queues sent. */
function backgroundFigures(s: RunSample, events: number) {
  const b = s.redisClient.background;
  return {
    redisBackgroundCommandsPer1kEvents: round((b.commands * 1000) / events, 3),
    redisBackgroundRoundTripsPer1kEvents: round((b.roundTrips * 1000) / events, 3),
    redisBackgroundBytesWrittenPerEvent: round(b.bytesWritten / events, 2),
  };
}

/** Redis's own counts over the run, per event, beside the client's. */
function serverFigures(s: RunSample, events: number) {
  return {
    redisServerCommandsPer1kEvents: round((s.redisServer.commands * 1000) / events, 3),
    redisServerBytesInPerEvent: round(s.redisServer.bytesIn / events, 2),
    redisServerCallsPer1kEvents: Object.fromEntries(
      s.redisServer.calls.slice(0, 10).map(([name, n]) => [name, round((n * 1000) / events, 3)]),
    ),
  };
}

type DefinitionAt = (startTime: number, events: number) => unknown;

export async function runEngineBench(args: Args): Promise<Record<string, unknown>> {
  const spec = QUERY_SPECS[args.query];
  const paced = args.rate > 0;
  const latencyOn = paced && spec.latencyField !== undefined;
  const definitionAt: DefinitionAt = (startTime, events) =>
    spec.definition(
      {
        events,
        rate: args.rate,
        startTime,
        partitions: args.partitions,
        ...(args.batchSize !== undefined ? { batchSize: args.batchSize } : {}),
      },
      latencyOn,
    );

  const fleet = await BenchFleet.start({ workers: args.workers, inline: args.inline });
  const samples: RunSample[] = [];
  let redisVersion = "?";
  try {
    redisVersion = /redis_version:(\S+)/.exec(await fleet.redis.info("server"))?.[1] ?? "?";
    // Paced runs: event time ≈ wall clock (start time = submission), so the sink can measure latency from the
    // event-time field. The source starts emitting a little after the run is submitted (planning, leasing, opening
    // the stage); event i happens at startTime + i / rate whatever that delay, so the delay is part of every
    // record's latency. A short warm-up run of the same pipeline first (JIT, connections) keeps it to a few ms
    // (a cold start takes ~50 ms); what it was is reported, and not subtracted.
    if (paced) {
      const warmup = newRunId(`${args.query}-warmup`);
      await fleet.submit(warmup, definitionAt(Date.now(), Math.round(args.rate * 2)));
      await fleet.waitForEnd(warmup, { timeoutMs: 60_000 });
    }
    // This machine is shared: a run during which other processes took more than CONTENDED of a core on average
    // is set aside (and listed), and another is made, up to three times as many runs as asked for.
    for (let attempt = 0; attempt < args.repeat * 3 && samples.filter(clean).length < args.repeat; attempt++) {
      samples.push(await measureRun(fleet, args, definitionAt));
    }
  } finally {
    await fleet.close();
  }

  // The median clean run by duration is the one reported (the least contended one if none was clean); every run
  // of the same events must give the same digest.
  const cleanRuns = samples.filter(clean);
  const pool = cleanRuns.length > 0 ? cleanRuns : [[...samples].sort((a, b) => contention(a) - contention(b))[0]!];
  const sorted = [...pool].sort((a, b) => a.seconds - b.seconds);
  const run = sorted[Math.floor((sorted.length - 1) / 2)]!;
  const outputHash = digestText(run.digest);
  // (Paced runs start at the wall clock, so each run's events, and digest, are its own.)
  const differing = samples.filter((s) => digestText(s.digest) !== outputHash);
  if (!paced && differing.length > 0) {
    throw new Error(`runs of the same events gave different digests: ${samples.map((s) => digestText(s.digest))}`);
  }
  const measured = run.warm !== undefined ? subtractHistograms(run.latency, run.warm) : run.latency;
  const result: Record<string, unknown> = {
    query: args.query,
    events: args.events,
    workers: args.workers,
    partitions: args.partitions,
    seconds: round(run.seconds, 3),
    eventsPerSec: Math.round(args.events / run.seconds),
    cpuSeconds: { workers: round(run.cpuWorkers), redis: round(run.cpuRedis), ...other(run) },
    ...costFigures(run, args.events),
    p50Ms: latencyOn ? percentile(measured, 0.5) : null,
    p99Ms: latencyOn ? percentile(measured, 0.99) : null,
    outputHash,
    outputCount: run.digest.count,
    limitEventsPerSec: null as number | null,
    limitOutputHash: null as string | null,
    hashesEqual: null as boolean | null,
    // Context.
    title: spec.title,
    rate: args.rate,
    batchSize: args.batchSize ?? 1000,
    mode: args.inline ? "inline (all workers on the main thread)" : "one worker thread per worker",
    errors: run.errors,
    sinkPartitions: run.sinkPartitions,
    ...(latencyOn
      ? {
          latency: {
            field: spec.latencyField,
            warmupSeconds: args.warmup,
            // How long after its start time (= submission) the source began emitting: in every latency figure.
            startDelayMs: run.startDelayMs === undefined ? null : round(run.startDelayMs, 1),
            measuredRecords: measured.counts.reduce((a, b) => a + b, 0),
            p999Ms: percentile(measured, 0.999),
            maxBucketMs: percentile(measured, 1),
            wholeRun: { p50Ms: percentile(run.latency, 0.5), p99Ms: percentile(run.latency, 0.99) },
          },
        }
      : {}),
    redisUsedMemoryGrowthMaxMb: round(run.redisMemoryGrowth / 2 ** 20, 1),
    ...backgroundFigures(run, args.events),
    redisClientTotals: run.redisClient,
    ...serverFigures(run, args.events),
    clean: clean(run),
    tasksPerWorker: run.owners,
    ...(samples.length > 1
      ? {
          runs: samples.map((s) => ({
            seconds: round(s.seconds, 3),
            eventsPerSec: Math.round(args.events / s.seconds),
            cpuSeconds: { workers: round(s.cpuWorkers), redis: round(s.cpuRedis), ...other(s) },
            ...costFigures(s, args.events),
            ...backgroundFigures(s, args.events),
            clean: clean(s),
            tasksPerWorker: s.owners,
            loadAverage1m: round(s.loadAverage),
            ...(s.busyBefore === undefined ? {} : { othersBusyCoresBefore: round(s.busyBefore) }),
          })),
        }
      : {}),
    loadAverage1m: round(run.loadAverage),
    ...(run.busyBefore === undefined ? {} : { othersBusyCoresBefore: round(run.busyBefore) }),
    measuredAt: new Date().toISOString(),
    machine: `${cpus().length} × ${cpus()[0]?.model.trim() ?? "?"}, Node ${process.version}, Redis ${redisVersion}`,
    commit: benchCommit(),
  };

  if (args.limit) {
    const limit = runLimit(args.query, { events: args.events, rate: args.rate, startTime: run.startTime }, args.passes);
    result.limitEventsPerSec = limit.eventsPerSec;
    result.limitOutputHash = digestText(limit.digest);
    result.hashesEqual = result.limitOutputHash === result.outputHash;
    result.limitNotes = limit.notes;
  }
  return result;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = parseArgs(process.argv.slice(2));
  if (!args.json) {
    console.error(
      `engine ${args.query}: ${args.events.toLocaleString("en-US")} events, ${args.workers} worker(s), ${args.partitions} partitions on ${benchRedisUrl()}`,
    );
  }
  const result = await runEngineBench(args);
  const text = JSON.stringify(result, null, args.json ? undefined : 2);
  console.log(text);
  if (!args.json) {
    console.error(
      `cost: ${result.redisCommandsPer1kEvents} Redis commands and ${result.redisRoundTripsPer1kEvents} round trips per 1k events (background ${result.redisBackgroundCommandsPer1kEvents} and ${result.redisBackgroundRoundTripsPer1kEvents}), ${result.redisBytesWrittenPerEvent} B written to Redis per event, ${result.workerCpuSecondsPerMillionEvents} worker CPU-s per 1M events`,
    );
  }
  if (args.save) {
    const dir = fileURLToPath(new URL("./results/", import.meta.url));
    mkdirSync(dir, { recursive: true });
    const name = `engine-${args.query}-${args.events}-w${args.workers}-p${args.partitions}${args.rate > 0 ? `-r${args.rate}` : ""}${args.inline ? "-inline" : ""}${args.batchSize !== undefined ? `-b${args.batchSize}` : ""}.json`;
    writeFileSync(`${dir}${name}`, `${JSON.stringify(result, null, 2)}\n`);
    if (!args.json) console.error(`saved bench/results/${name}`);
  }
  process.exit(result.hashesEqual === false ? 1 : 0);
}
