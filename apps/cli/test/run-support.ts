import { randomBytes } from "node:crypto";
import { EventEmitter } from "node:events";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { PgTarget } from "@sluice/nodes/connectors/postgres/testing/postgres-test-support";
import type { RunSnapshot } from "@sluice/pipeline/control/protocol";
import { Redis } from "ioredis";
import { afterAll, beforeAll, expect } from "vitest";
import { stringify } from "yaml";
import { runCommand } from "../src/commands/run";
import type { Output } from "../src/io";
import { main } from "../src/main";

// `sluice run` from a test, against the real servers on this machine: the command `main` runs, with one worker in the
// test's process, a connections file the test writes, and a signal source of its own so the test can press Ctrl-C.
// A run whose sources never end is waited on through its targets (`until`), then stopped as Ctrl-C does (drained and
// committed, exit 130); that is what keeps the checks independent of how fast the machine is.

export const REDIS_URL = process.env.SLUICE_TEST_REDIS_URL || "redis://127.0.0.1:6379";
/** The local test servers listen on loopback, which `sluice run` connects to only where allowed. */
export const LOCAL_ALLOW = "127.0.0.0/8,[::1]/128";
export const NATS_URL = process.env.SLUICE_TEST_NATS_URL || "nats://127.0.0.1:4222";
export const MQTT_URL = process.env.SLUICE_TEST_MQTT_URL || "mqtt://127.0.0.1:1883";
export const AMQP_URL = process.env.SLUICE_TEST_AMQP_URL || "amqp://127.0.0.1:5672/";

export type Row = Record<string, unknown>;

export interface RunResult {
  code: number;
  snapshot: RunSnapshot | undefined;
  /** What the command printed on standard error. */
  err: string;
}

export interface RunningPipeline {
  /** Set once `sluice run` has returned. */
  result: RunResult | undefined;
  /** What the command has printed on standard error so far. */
  err: readonly string[];
  /** Stops the run as Ctrl-C does (drain and commit) and waits for the command to return. */
  stop(): Promise<RunResult>;
}

export interface StartOptions {
  connections: string;
  params?: Record<string, string>;
  env?: Record<string, string>;
  ingest?: { port: number };
}

/** The runs of one test file: its own key prefix on the fleet's Redis and its own temporary directory. */
export interface PipelineRuns {
  /** The Redis key prefix of this file's runs. */
  readonly prefix: string;
  /** The fleet's Redis (database 0 of REDIS_URL). */
  readonly redis: Redis;
  /** The file's temporary directory, there from its beforeAll on. */
  readonly dir: string;
  /** A connections file for `--connections`, in the YAML a user writes. */
  connectionsFile(name: string, connections: Record<string, Row>): Promise<string>;
  /** `sluice run -f FILE --json ARGS…` (e.g. --param), one worker in this process, for a bounded pipeline. */
  runToEnd(file: string, args: string[]): Promise<RunResult>;
  /** Starts `sluice run` on a pipeline whose sources do not end, with the same options `main` gives it. */
  startRun(file: string, options: StartOptions): RunningPipeline;
}

/**
 * The runs of the calling test file, named after `name`: registers the hooks that make its directory and remove it,
 * with every key its runs left on the fleet's Redis, when the file is done.
 */
export function pipelineRuns(name: string): PipelineRuns {
  const prefix = `t-cli-${name}-${randomBytes(4).toString("hex")}`;
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  let dir: string | undefined;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), `sluice-${name}-`));
  });

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
    await deleteKeys(`${prefix}:*`, redis);
    await redis.quit();
  });

  const runs: PipelineRuns = {
    prefix,
    redis,
    get dir() {
      if (!dir) throw new Error("the test directory is made in beforeAll");
      return dir;
    },
    async connectionsFile(file, connections) {
      const at = path.join(runs.dir, `${file}.connections.yaml`);
      await writeFile(at, stringify(connections));
      return at;
    },
    async runToEnd(file, args) {
      const out: string[] = [];
      const err: string[] = [];
      const io: Output = { out: (t) => out.push(t), err: (t) => err.push(t) };
      const code = await main(["run", "-f", file, "--workers", "1", "--prefix", prefix, "--json", ...args], io);
      return outputOf(out, err, code);
    },
    startRun(file, options) {
      const out: string[] = [];
      const err: string[] = [];
      const io: Output = { out: (t) => out.push(t), err: (t) => err.push(t) };
      const signals = new EventEmitter();
      let stopping = false;
      const running: RunningPipeline = {
        result: undefined,
        err,
        async stop() {
          // Once only: a second Ctrl-C makes `sluice run` leave at once (process.exit).
          if (!stopping && !running.result) signals.emit("SIGINT");
          stopping = true;
          return done;
        },
      };
      const done = runCommand(
        {
          file,
          workers: 1,
          params: Object.entries(options.params ?? {}).map(([k, v]) => `${k}=${v}`),
          json: true,
          redisUrl: REDIS_URL,
          prefix,
          connections: options.connections,
          env: { SLUICE_CONNECTIONS_ALLOW: LOCAL_ALLOW, ...process.env, ...options.env },
          ...(options.ingest ? { ingest: options.ingest } : {}),
        },
        io,
        signals,
      ).then((code) => {
        running.result = outputOf(out, err, code);
        return running.result;
      });
      return running;
    },
  };
  return runs;
}

function outputOf(out: string[], err: string[], code: number): RunResult {
  const text = out.join("\n").trim();
  return { code, snapshot: text ? (JSON.parse(text) as RunSnapshot) : undefined, err: err.join("\n") };
}

/** Deletes the keys matching `pattern`, SCAN by SCAN. */
export async function deleteKeys(pattern: string, client: Redis): Promise<void> {
  let cursor = "0";
  do {
    const [next, found] = await client.scan(cursor, "MATCH", pattern, "COUNT", 1000);
    cursor = next;
    if (found.length > 0) await client.del(...found);
  } while (cursor !== "0");
}

/** Stops a run a failed test left running, before what it reads from is removed. */
export async function ended(run: RunningPipeline | undefined): Promise<RunResult | undefined> {
  return run?.result ?? (await run?.stop());
}

/** Waits until `check` holds; fails at once, with what the command said, when the run ended before. */
export async function until(
  run: RunningPipeline,
  what: string,
  check: () => Promise<boolean>,
  timeoutMs = 40_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (run.result) {
      throw new Error(
        `${what}: sluice run ended first (exit ${run.result.code}, ${run.result.snapshot?.status}: ${run.result.snapshot?.error ?? ""})\n${run.result.err}`,
      );
    }
    if (Date.now() > deadline) {
      const stopped = await run.stop();
      throw new Error(`${what}: not within ${timeoutMs} ms (run: ${JSON.stringify(stopped.snapshot?.nodes)})`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The run was stopped by Ctrl-C, cleanly, with nothing dead-lettered. */
export function expectStopped(r: RunResult, printedFirst: readonly string[] = []): RunSnapshot {
  expect(r.err.trim(), "sluice run printed no error").toBe(
    [...printedFirst, "\nstopping the run (drain and commit); Ctrl-C again to leave at once"].join("\n").trim(),
  );
  expect(r.code).toBe(130);
  expect(r.snapshot?.status).toBe("stopped");
  expect(r.snapshot?.error).toBeNull();
  const errors = Object.entries(r.snapshot?.nodes ?? {}).filter(([, c]) => c.errors > 0);
  expect(errors, "nodes that dead-lettered records").toEqual([]);
  return r.snapshot!;
}

export const range = (n: number) => Array.from({ length: n }, (_, i) => i);

export function postgresConnection(target: PgTarget): Row {
  return { type: "postgres", ...target };
}
