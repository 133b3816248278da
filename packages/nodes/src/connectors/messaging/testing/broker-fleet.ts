import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { parseRunMeta } from "@sluice/pipeline/control/protocol";
import { type DeadLetterView, readDeadLetters } from "@sluice/pipeline/control/run-reader";
import { type FleetHarness, waitFor } from "@sluice/test-kit/fleet-harness";

// What the message connectors' integration tests share: a two-node pipeline (source → sink) through the real
// engine, a worker that dies right after a sink write, and the run's dead letters. Test-only.

const CRASH_WORKER = fileURLToPath(new URL("./crash-after-write-worker.ts", import.meta.url));

export interface NodeSpec {
  type: string;
  config: Record<string, unknown>;
}

/** source → sink, exactly-once asked for (the plan says what the run really gets). */
export function brokerPipeline(
  source: NodeSpec,
  sink: NodeSpec,
  settings: { parallelism?: number; batchSize?: number } = {},
): Record<string, unknown> {
  return {
    apiVersion: "sluice/v1",
    kind: "Pipeline",
    metadata: { name: "broker-test" },
    spec: {
      settings: {
        parallelism: settings.parallelism ?? 1,
        batchSize: settings.batchSize ?? 500,
        delivery: "exactly-once",
      },
      nodes: [
        { id: "src", type: source.type, config: source.config },
        { id: "out", type: sink.type, config: sink.config },
      ],
      edges: [{ from: "src", to: "out" }],
    },
  };
}

export async function deadLetters(fleet: FleetHarness, runId: string): Promise<DeadLetterView[]> {
  const meta = parseRunMeta(await fleet.redis.hgetall(fleet.keys.runMeta(runId)));
  if (!meta) return [];
  return readDeadLetters(fleet.redis, fleet.keys, runId, meta, 1000);
}

export interface CrashingWorker {
  output: string[];
  exited: Promise<NodeJS.Signals | null>;
  child: ChildProcess;
}

/** A worker process that SIGKILLs itself right after `sinkType` wrote the batch with sequence `afterSequence`. */
export async function startCrashingWorker(
  fleet: FleetHarness,
  sinkType: string,
  afterSequence: number,
): Promise<CrashingWorker> {
  const output: string[] = [];
  const child = spawn(process.execPath, ["--import", "tsx", CRASH_WORKER], {
    env: {
      ...process.env,
      REDIS_URL: fleet.redisUrl,
      SLUICE_REDIS_PREFIX: fleet.prefix,
      SLUICE_WORKER_ID: "doomed",
      SLUICE_SECRET_KEY_HEX: Buffer.from(fleet.secretKey).toString("hex"),
      CRASH_SINK_TYPE: sinkType,
      CRASH_AFTER_SEQUENCE: String(afterSequence),
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout?.on("data", (d: Buffer) => output.push(d.toString()));
  child.stderr?.on("data", (d: Buffer) => output.push(d.toString()));
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on("exit", (_code, signal) => resolve(signal)));
  await waitFor(
    () => output.join("").includes("worker started"),
    30_000,
    () => output.join(""),
  );
  return { output, exited, child };
}

export interface CrashReport {
  /** The batch written last, never committed. */
  batchId: string;
  /** Its records. */
  records: number;
  /** Records the worker wrote in all batches, that one included. */
  written: number;
}

/** What a crashed worker said it had written when it died; batch sizes follow the engine's byte budget. */
export function crashReport(worker: CrashingWorker): CrashReport {
  const text = worker.output.join("");
  const m = /crashing after writing batch (\S+) \((\d+) records\) with (\d+) records written in all/.exec(text);
  if (!m) throw new Error(`the worker did not say what it wrote before it died:\n${text}`);
  return { batchId: m[1]!, records: Number(m[2]), written: Number(m[3]) };
}

export function stopChild(worker: CrashingWorker | undefined): void {
  const child = worker?.child;
  if (child && child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
}
