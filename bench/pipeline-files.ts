import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, mkdtemp, open, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { nexmarkDef } from "@sluice/nodes/sources/nexmark.def";
import { nexmarkParams } from "@sluice/nodes/sources/nexmark.run";
import { BID, NexmarkGenerator, nexmarkKind } from "@sluice/nodes/sources/nexmark-events";
import type { PipelineDefinitionInput } from "@sluice/pipeline/definition";
import type { DataRecord } from "@sluice/pipeline/record-schema";
import { optionValue } from "./bench-args";
import {
  BenchFleet,
  benchCommit,
  cpuSecondsSince,
  machineBusySeconds,
  newRunId,
  startRunMeter,
  waitForQuiet,
} from "./engine-harness";
import { FIXED_START_TIME } from "./engine-queries";
import type { RedisClientCounts } from "./redis-counter";

// `npm run bench -- pipeline-files [--events N] [--query filter|map|both] [--parallelism P] [--batch B] [--json]
// [--save]` (issue 19): a file-to-file pipeline against a plain single-process Node loop over the same file.
//
// N seeded Nexmark bids (default 1,000,000; the generator of source.nexmark, bids only) are written once, untimed,
// as one JSON Lines file into a temporary files directory (SLUICE_FILES_DIR for the worker). Each query then runs
//   - as a pipeline: source.file (JSON Lines) → transform.filter `auction % 123 = 0` or transform.map
//     `price = price * 0.908` → sink.file (JSON Lines), with the pipeline's default settings (exactly-once, default
//     batch size and parallelism, the sink's default fsync) unless --parallelism / --batch say otherwise, on one
//     in-process fleet worker (its own worker thread; --inline: the main thread, for one --cpu-prof profile) against
//     the local Redis under a key prefix of its own;
//   - as a plain loop: the file streamed, split into lines, JSON.parse, the same filter or map, JSON.stringify,
//     written to one output file, fsynced at the end.
// Engine runs and plain passes alternate (--repeat K engine runs, default 2; --passes K plain passes, default 2);
// the best of each is reported. The engine's part files, concatenated in name order, must be byte-identical to the
// plain loop's output (if they are not, the sorted lines are compared and `comparedAs` says so).
//
// One JSON object per query:
//   engineSeconds      the run's startedAt → finishedAt, as the engine records them (best run)
//   engineWallSeconds  submission → the poll that saw the run end (50 ms polls), same run
//   ratio              engineEventsPerSec / plainEventsPerSec (and ratioWall from the wall time)
//   cpuSeconds         workers: this process's CPU over the run (the worker, plus the snapshot poll); redis: INFO
//                      cpu delta; otherProcesses: the machine's busy time − both (contention from elsewhere)
//   redisSent          commands and round trips the worker's Redis connections sent over the run (redis-counter.ts)
//   plainPassesOtherProcessesCpu  the same contention check for each plain pass
// Other options: --inline, --no-wait-quiet (by default each measurement first waits up to 30 s for a quiet second),
// --timeout S (per run, default 600), --save (also bench/results/pipeline-files-<query>-<N>[-p<P>][-b<B>].json).
// BENCH_PROFILE_MARKS=1 prints each engine run's and plain pass's window on the profiler's clock.

const QUERY_NAMES = ["filter", "map"] as const;
type QueryName = (typeof QUERY_NAMES)[number];

interface QuerySpec {
  title: string;
  node: { type: string; config: Record<string, unknown> };
  /** The plain loop's version: the record to write, or undefined to drop it. */
  apply(record: DataRecord): DataRecord | undefined;
}

const QUERIES: Record<QueryName, QuerySpec> = {
  filter: {
    title: "keep bids where auction % 123 = 0",
    node: { type: "transform.filter", config: { where: "auction % 123 = 0" } },
    apply: (r) => ((r.auction as number) % 123 === 0 ? r : undefined),
  },
  map: {
    title: "price = price * 0.908",
    node: { type: "transform.map", config: { set: { price: "price * 0.908" } } },
    apply: (r) => {
      r.price = (r.price as number) * 0.908;
      return r;
    },
  },
};

interface Args {
  events: number;
  queries: QueryName[];
  parallelism: number | undefined;
  batch: number | undefined;
  repeat: number;
  passes: number;
  inline: boolean;
  waitQuiet: boolean;
  json: boolean;
  save: boolean;
  timeoutMs: number;
}

function usage(message: string): never {
  console.error(`pipeline-files: ${message}`);
  console.error(
    "usage: npm run bench -- pipeline-files [--events N] [--query filter|map|both] [--parallelism P] [--batch B] [--repeat K] [--passes K] [--inline] [--json] [--save]",
  );
  process.exit(2);
}

function parseArgs(argv: readonly string[]): Args {
  const value = (name: string) => optionValue(argv, name, usage);
  const whole = (name: string, fallback: number | undefined) => {
    const v = value(name);
    if (v === undefined) return fallback;
    const n = Number(v.replace(/_/g, ""));
    if (!Number.isInteger(n) || n < 1) usage(`${name} must be a whole number ≥ 1, not "${v}"`);
    return n;
  };
  const query = value("--query") ?? "both";
  if (query !== "both" && !(QUERY_NAMES as readonly string[]).includes(query)) {
    usage(`--query is filter, map or both, not "${query}"`);
  }
  return {
    events: whole("--events", 1_000_000)!,
    queries: query === "both" ? [...QUERY_NAMES] : [query as QueryName],
    parallelism: whole("--parallelism", undefined),
    batch: whole("--batch", undefined),
    repeat: whole("--repeat", 2)!,
    passes: whole("--passes", 2)!,
    inline: argv.includes("--inline"),
    waitQuiet: !argv.includes("--no-wait-quiet"),
    json: argv.includes("--json"),
    save: argv.includes("--save"),
    timeoutMs: whole("--timeout", 600)! * 1000,
  };
}

const round = (v: number, digits = 2) => Math.round(v * 10 ** digits) / 10 ** digits;
const log = (args: Args, text: string) => {
  if (!args.json) console.error(text);
};

const INPUT = "in/bids.jsonl";

/** Writes `count` seeded bids (event indices of kind BID, in order) as JSON Lines; returns the file's size. */
async function writeBids(file: string, count: number): Promise<number> {
  const config = nexmarkDef.config.parse({ events: Math.ceil((count * 50) / 46) + 50, rate: 0 });
  const gen = new NexmarkGenerator(nexmarkParams(config, FIXED_START_TIME));
  const fh = await open(file, "w");
  try {
    let text = "";
    for (let i = 0, written = 0; written < count; i++) {
      if (nexmarkKind(i) !== BID) continue;
      text += `${JSON.stringify(gen.event(i))}\n`;
      written++;
      if (text.length >= 1 << 20) {
        await fh.write(text);
        text = "";
      }
    }
    await fh.write(text);
  } finally {
    await fh.close();
  }
  return (await stat(file)).size;
}

/** The plain loop: read, split, parse, filter or map, stringify, write, fsync. Returns the records written. */
async function plainLoop(input: string, output: string, apply: QuerySpec["apply"]): Promise<number> {
  const out = await open(output, "w");
  let written = 0;
  const take = (line: string): string => {
    if (line.length === 0) return "";
    const r = apply(JSON.parse(line) as DataRecord);
    if (r === undefined) return "";
    written++;
    return `${JSON.stringify(r)}\n`;
  };
  try {
    let rest = "";
    for await (const chunk of createReadStream(input, { encoding: "utf8" })) {
      const text = rest + (chunk as string);
      let start = 0;
      let lines = "";
      for (let nl = text.indexOf("\n"); nl >= 0; nl = text.indexOf("\n", start)) {
        lines += take(text.slice(start, nl));
        start = nl + 1;
      }
      rest = text.slice(start);
      if (lines.length > 0) await out.write(lines);
    }
    const last = take(rest);
    if (last.length > 0) await out.write(last);
    await out.sync();
  } finally {
    await out.close();
  }
  return written;
}

/** The file sink's completed part files in a folder, in name order (numbers compared as numbers: p10 after p9). */
async function partFiles(folder: string): Promise<string[]> {
  const names = await readdir(folder).catch(() => [] as string[]);
  const unfinished = names.filter((n) => !n.endsWith(".jsonl"));
  if (unfinished.length > 0) throw new Error(`the sink left files that are not completed parts: ${unfinished}`);
  return names.sort((a, b) => a.localeCompare(b, "en", { numeric: true })).map((n) => path.join(folder, n));
}

async function sha256(files: readonly string[]): Promise<{ hash: string; bytes: number }> {
  const h = createHash("sha256");
  let bytes = 0;
  for (const f of files) {
    for await (const chunk of createReadStream(f)) {
      h.update(chunk as Buffer);
      bytes += (chunk as Buffer).length;
    }
  }
  return { hash: h.digest("hex"), bytes };
}

async function sortedLines(files: readonly string[]): Promise<string[]> {
  const lines: string[] = [];
  for (const f of files) for (const line of (await readFile(f, "utf8")).split("\n")) if (line) lines.push(line);
  return lines.sort();
}

function definition(query: QueryName, args: Args, outFolder: string): PipelineDefinitionInput {
  const settings = {
    ...(args.parallelism !== undefined ? { parallelism: args.parallelism } : {}),
    ...(args.batch !== undefined ? { batchSize: args.batch } : {}),
  };
  return {
    apiVersion: "sluice/v1",
    kind: "Pipeline",
    metadata: { name: `bench-files-${query}` },
    spec: {
      // Left out, the settings are the pipeline's defaults: what a person gets without touching them.
      ...(Object.keys(settings).length > 0 ? { settings } : {}),
      nodes: [
        { id: "src", type: "source.file", config: { path: INPUT, format: "jsonl" } },
        { id: "q", ...QUERIES[query].node },
        { id: "out", type: "sink.file", config: { path: outFolder, format: "jsonl" } },
      ],
      edges: [
        { from: "src", to: "q" },
        { from: "q", to: "out" },
      ],
    },
  };
}

interface EngineRun {
  runId: string;
  seconds: number;
  wallSeconds: number;
  cpuWorkers: number;
  cpuRedis: number;
  cpuOther: number | undefined;
  /** What the worker's Redis connections sent over the run. */
  redisSent: RedisClientCounts;
  othersBusyBefore: number | undefined;
  records: number;
  files: string[];
}

async function engineRun(fleet: BenchFleet, query: QueryName, args: Args, filesDir: string): Promise<EngineRun> {
  const runId = newRunId(`files-${query}`);
  const outFolder = `out/${runId}`;
  const othersBusyBefore = args.waitQuiet ? await waitForQuiet(fleet.redis, 30_000) : undefined;
  const meter = await startRunMeter(fleet);
  const t0 = performance.now();
  // For profiles (--cpu-prof): the run's window on the monotonic clock V8's profiler stamps samples with.
  const markFrom = process.hrtime.bigint();
  await fleet.submit(runId, definition(query, args, outFolder));
  const s = await fleet.waitForEnd(runId, { timeoutMs: args.timeoutMs });
  if (process.env.BENCH_PROFILE_MARKS) {
    console.error(`profile-window-us ${query} ${markFrom / 1000n} ${process.hrtime.bigint() / 1000n}`);
  }
  const wallSeconds = (performance.now() - t0) / 1000;
  const { redisClient: redisSent, ...cost } = await meter.stop();
  if (s.status !== "completed") throw new Error(`run ${runId} ended ${s.status}${s.error ? `: ${s.error}` : ""}`);
  const errors = Object.values(s.nodes).reduce((n, c) => n + c.errors, 0);
  if (errors > 0) throw new Error(`run ${runId} completed with ${errors} record errors: ${JSON.stringify(s.nodes)}`);
  if (s.startedAt === null || s.finishedAt === null) throw new Error(`run ${runId} has no start or finish time`);
  return {
    runId,
    seconds: (s.finishedAt - s.startedAt) / 1000,
    wallSeconds,
    ...cost,
    redisSent,
    othersBusyBefore,
    records: s.nodes.out?.in ?? 0,
    files: await partFiles(path.join(filesDir, outFolder)),
  };
}

interface Comparison {
  outputsEqual: boolean;
  comparedAs: "bytes" | "sorted lines";
  byteIdentical: boolean;
}

async function compare(engineFiles: readonly string[], plainFile: string, plainHash: string): Promise<Comparison> {
  const engine = await sha256(engineFiles);
  if (engine.hash === plainHash) return { outputsEqual: true, comparedAs: "bytes", byteIdentical: true };
  // Partitions may interleave differently from the input's order; the same lines in another order still count.
  const [a, b] = await Promise.all([sortedLines(engineFiles), sortedLines([plainFile])]);
  const equal = a.length === b.length && a.every((line, i) => line === b[i]);
  return { outputsEqual: equal, comparedAs: "sorted lines", byteIdentical: false };
}

async function measureQuery(
  fleet: BenchFleet,
  query: QueryName,
  args: Args,
  dirs: { files: string; plain: string },
): Promise<Record<string, unknown>> {
  const input = path.join(dirs.files, INPUT);
  const plainFile = path.join(dirs.plain, `${query}.jsonl`);
  const runs: (EngineRun & Comparison)[] = [];
  const passes: number[] = [];
  const plainOther: number[] = [];
  let plainRecords = -1;
  let plainHash: { hash: string; bytes: number } | undefined;
  // Plain passes and engine runs alternate, so a change in the machine's load touches both alike.
  for (let round = 0; round < Math.max(args.repeat, args.passes); round++) {
    if (round < args.passes) {
      if (args.waitQuiet) await waitForQuiet(fleet.redis, 30_000);
      const machine0 = machineBusySeconds();
      const cpu0 = process.cpuUsage();
      const t0 = process.hrtime.bigint();
      const records = await plainLoop(input, plainFile, QUERIES[query].apply);
      const t1 = process.hrtime.bigint();
      passes.push(Number(t1 - t0) / 1e9);
      const machine1 = machineBusySeconds();
      // Other processes' CPU over the pass (the machine's busy time − this process's), as for the engine runs.
      if (machine0 !== undefined && machine1 !== undefined) {
        plainOther.push(machine1 - machine0 - cpuSecondsSince(cpu0));
      }
      if (process.env.BENCH_PROFILE_MARKS)
        console.error(`profile-window-us plain-${query} ${t0 / 1000n} ${t1 / 1000n}`);
      if (plainRecords >= 0 && records !== plainRecords)
        throw new Error(`${query}: the plain loop is not deterministic`);
      plainRecords = records;
      plainHash ??= await sha256([plainFile]);
      log(args, `${query} plain pass ${round + 1}: ${round3(passes.at(-1)!)} s`);
    }
    if (round < args.repeat) {
      const run = await engineRun(fleet, query, args, dirs.files);
      const comparison = await compare(run.files, plainFile, plainHash!.hash);
      runs.push({ ...run, ...comparison });
      await rm(path.join(dirs.files, "out", run.runId), { recursive: true, force: true });
      if (run.records !== plainRecords) {
        throw new Error(`${query}: the sink took ${run.records} records, the plain loop wrote ${plainRecords}`);
      }
      log(
        args,
        `${query} engine run ${round + 1}: ${round3(run.seconds)} s, ${comparison.comparedAs} equal: ${comparison.outputsEqual}`,
      );
    }
  }
  const best = [...runs].sort((a, b) => a.seconds - b.seconds)[0]!;
  const plainSeconds = Math.min(...passes);
  const engineEventsPerSec = args.events / best.seconds;
  const plainEventsPerSec = args.events / plainSeconds;
  const other = (r: EngineRun) => (r.cpuOther === undefined ? {} : { otherProcesses: round(r.cpuOther) });
  return {
    bench: "pipeline-files",
    query,
    title: QUERIES[query].title,
    events: args.events,
    engineSeconds: round3(best.seconds),
    engineWallSeconds: round3(best.wallSeconds),
    engineEventsPerSec: Math.round(engineEventsPerSec),
    plainSeconds: round3(plainSeconds),
    plainEventsPerSec: Math.round(plainEventsPerSec),
    ratio: round(engineEventsPerSec / plainEventsPerSec, 3),
    ratioWall: round(args.events / best.wallSeconds / plainEventsPerSec, 3),
    cpuSeconds: { workers: round(best.cpuWorkers), redis: round(best.cpuRedis), ...other(best) },
    redisSent: { commands: best.redisSent.commands, roundTrips: best.redisSent.roundTrips },
    outputsEqual: runs.every((r) => r.outputsEqual),
    comparedAs: runs.some((r) => r.comparedAs === "sorted lines") ? "sorted lines" : "bytes",
    outputRecords: plainRecords,
    outputBytes: plainHash?.bytes ?? 0,
    engineOutputFiles: best.files.length,
    settings: {
      parallelism: args.parallelism ?? "default (4)",
      batchSize: args.batch ?? "default (1000)",
      delivery: "exactly-once (default)",
      sinkFsync: "default (on)",
      workers: 1,
      mode: args.inline ? "inline (worker on the main thread)" : "worker thread",
    },
    runs: runs.map((r) => ({
      seconds: round3(r.seconds),
      wallSeconds: round3(r.wallSeconds),
      cpuSeconds: { workers: round(r.cpuWorkers), redis: round(r.cpuRedis), ...other(r) },
      redisRoundTrips: r.redisSent.roundTrips,
      outputsEqual: r.outputsEqual,
      ...(r.othersBusyBefore === undefined ? {} : { othersBusyCoresBefore: round(r.othersBusyBefore) }),
    })),
    plainPasses: passes.map(round3),
    ...(plainOther.length > 0 ? { plainPassesOtherProcessesCpu: plainOther.map((v) => round(v)) } : {}),
    loadAverage: loadavg().map((v) => round(v)),
    measuredAt: new Date().toISOString(),
    machine: `${cpus().length} × ${cpus()[0]?.model.trim() ?? "?"}, Node ${process.version}`,
    commit: benchCommit(),
  };
}

const round3 = (v: number) => round(v, 3);

async function main(args: Args): Promise<Record<string, unknown>[]> {
  const tmp = await mkdtemp(path.join(tmpdir(), "sluice-pipeline-files-"));
  const filesDir = path.join(tmp, "files");
  const plainDir = path.join(tmp, "plain");
  await mkdir(path.join(filesDir, "in"), { recursive: true });
  await mkdir(plainDir, { recursive: true });
  // The worker's file nodes work in SLUICE_FILES_DIR; a worker thread copies the environment when it starts.
  process.env.SLUICE_FILES_DIR = filesDir;
  let fleet: BenchFleet | undefined;
  try {
    const t0 = performance.now();
    const inputBytes = await writeBids(path.join(filesDir, INPUT), args.events);
    log(args, `wrote ${args.events} bids (${inputBytes} bytes) in ${round((performance.now() - t0) / 1000)} s`);
    fleet = await BenchFleet.start({ workers: 1, inline: args.inline });
    const results: Record<string, unknown>[] = [];
    for (const query of args.queries) {
      results.push({ ...(await measureQuery(fleet, query, args, { files: filesDir, plain: plainDir })), inputBytes });
    }
    return results;
  } finally {
    try {
      await fleet?.close();
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = parseArgs(process.argv.slice(2));
  let results: Record<string, unknown>[];
  try {
    results = await main(args);
  } catch (err) {
    console.error(`pipeline-files: failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  }
  for (const result of results) {
    console.log(JSON.stringify(result, null, args.json ? undefined : 2));
    if (args.save) {
      const dir = fileURLToPath(new URL("./results/", import.meta.url));
      await mkdir(dir, { recursive: true });
      const suffix = `${args.parallelism !== undefined ? `-p${args.parallelism}` : ""}${args.batch !== undefined ? `-b${args.batch}` : ""}`;
      const name = `pipeline-files-${result.query}-${args.events}${suffix}.json`;
      await writeFile(`${dir}${name}`, `${JSON.stringify(result, null, 2)}\n`);
      log(args, `saved bench/results/${name}`);
    }
  }
  const unequal = results.filter((r) => r.outputsEqual !== true).map((r) => r.query);
  if (unequal.length > 0) {
    console.error(`pipeline-files: the engine's output differs from the plain loop's for ${unequal.join(", ")}`);
    process.exit(1);
  }
  process.exit(0);
}
