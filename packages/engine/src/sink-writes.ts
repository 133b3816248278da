import { type BatchInfo, PermanentConnectorError, type SinkWriter } from "@sluice/nodes/runtime-contract";
import type { DataRecord } from "@sluice/pipeline/record-schema";
import { type EngineLogger, errorMessage } from "./engine-logger";
import type { FusedStage, StageSink } from "./fused-stage";
import { sleep } from "./sleep";

// A batch's sink writes, before its commit: each sink that holds records writes them, retried with a growing
// delay while the target is unavailable, until it succeeds, the user stops the run or the worker shuts down.
// What a target refuses record by record becomes dead letters at that sink.

export interface SinkWriteControl {
  log: EngineLogger;
  taskId: string;
  /** Cuts the run's secrets out of an error before it is logged or shown. */
  scrub: (text: string) => string;
  /** Longest wait between retries. */
  maxRetryDelayMs: number;
  shutdown: AbortSignal;
  /** Reads the run's desired state now. */
  checkControl: (force: true) => Promise<void>;
  /** The run's desired state, as last read, is stopped. */
  stopRequested: () => boolean;
  /** A write failed and is tried again in `delayMs`: the run shows the partition as retrying. */
  onRetry: (error: string, delayMs: number) => Promise<void>;
}

/**
 * How a batch's sink writes ended: all written (with the sinks that wrote, to be told of the commit), the worker
 * shutting down, or the run stopped while a write was waiting to be tried again.
 */
type SinkWrites = { outcome: "written"; wrote: SinkWriter[] } | { outcome: "released" } | { outcome: "stopped" };

/** Writes `sinks` (the stage's sinks holding records, see FusedStage.pendingWrites) one after the other. */
export async function writeSinks(
  stage: FusedStage,
  sinks: readonly StageSink[],
  batch: BatchInfo,
  control: SinkWriteControl,
): Promise<SinkWrites> {
  const wrote: SinkWriter[] = [];
  for (const sink of sinks) {
    // What the target refused in the attempt that succeeded; a failed attempt's refusals are decided again.
    let refused: { record: DataRecord; error: unknown }[] = [];
    const written = await writeWithRetry(sink.nodeId, control, () => {
      refused = [];
      return sink.writer.write(sink.buffer, batch, (record, error) => refused.push({ record, error }));
    });
    if (written === "released") return { outcome: "released" };
    if (written === "stopped") return { outcome: "stopped" };
    if (refused.length > 0) stage.rejectAtSink(sink.nodeId, refused);
    wrote.push(sink.writer);
  }
  return { outcome: "written", wrote };
}

/** The batch the sinks wrote was committed: two-phase sinks complete it now. */
export async function sinksCommitted(wrote: readonly SinkWriter[], batch: BatchInfo): Promise<void> {
  for (const writer of wrote) await writer.committed?.(batch);
}

async function writeWithRetry(
  nodeId: string,
  control: SinkWriteControl,
  write: () => Promise<void>,
): Promise<"written" | "released" | "stopped"> {
  const { shutdown } = control;
  let delay = 100;
  for (let attempt = 1; ; attempt++) {
    try {
      await write();
      return "written";
    } catch (err) {
      // Refused credentials, a missing table: retrying cannot help, the run fails with the reason.
      if (err instanceof PermanentConnectorError) throw err;
      const error = control.scrub(errorMessage(err));
      control.log.warn("sink write failed; retrying", {
        task: control.taskId,
        node: nodeId,
        attempt,
        error,
        retryInMs: delay,
      });
      await control.onRetry(`node ${nodeId}: ${error}`, delay);
    }
    // The wait looks at the run's desired state every second, so a stop is honoured at once.
    const until = Date.now() + delay;
    while (Date.now() < until) {
      await sleep(Math.min(until - Date.now(), 1000), shutdown);
      if (shutdown.aborted) return "released";
      await control.checkControl(true);
      if (control.stopRequested()) return "stopped";
    }
    delay = Math.min(delay * 2, control.maxRetryDelayMs);
  }
}
