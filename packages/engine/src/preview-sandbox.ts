import { Worker } from "node:worker_threads";
import type { DestinationPolicy } from "@sluice/nodes/destination-policy";
import {
  bundleSecrets,
  type ConnectionBundle,
  type FilesService,
  PermanentConnectorError,
} from "@sluice/nodes/runtime-contract";
import type { PreviewResult } from "@sluice/pipeline/control/protocol";
import { secretScrubber } from "@sluice/pipeline/control/secret-scrub";
import type { ParameterValue } from "@sluice/pipeline/parameters";
import { errorMessage } from "./engine-logger";
import type { FromPreviewThread, PreviewThreadData, PreviewThreadRequest, ToPreviewThread } from "./preview-thread";

// Each data preview runs in a worker thread of its own, with a heap limit, and is terminated when it runs over its
// time: an expression that burns CPU or memory stops there, and the worker's own event loop (heartbeats, lease
// renewals, commits) never waits on it. A thread runs one preview and is thrown away, so nothing of one draft (or
// one workspace) is left for the next; one spare thread is kept loaded so a preview does not wait for the node
// types to load (about a second), and dropped when previews stop coming.

const ENTRY = new URL("./preview-thread-entry.mjs", import.meta.url);
/** Time the preview has, after it was asked to stop, to answer with what it has before its thread is killed. */
const GRACE_MS = 1000;
/** A thread that has not loaded the node types by then is not going to. */
const START_LIMIT_MS = 30_000;
/** A spare thread unused for this long is let go. */
const SPARE_IDLE_MS = 5 * 60_000;

export interface PreviewSandboxOptions {
  /** The longest a preview may run, whatever it asks for (SLUICE_PREVIEW_TIMEOUT). */
  timeoutMs: number;
  /** The heap of a preview's thread, in MiB (SLUICE_PREVIEW_MEMORY_MB). */
  memoryMb: number;
  /** Records kept in an answer stop at this many bytes (see previewPipeline). */
  maxResultBytes?: number;
  /**
   * A module (URL or package path) exporting `catalog` and `runtimes`, when the worker runs node types besides the
   * standard ones: a thread cannot be handed the worker's own registries, so it imports them. Default: the standard
   * `@sluice/nodes/catalog` and `@sluice/nodes/runtimes`.
   */
  nodes?: string;
}

const DEFAULT_PREVIEW_LIMITS = { timeoutMs: 20_000, memoryMb: 256 } as const;

interface PreviewRequest {
  definition: unknown;
  parameters: Record<string, ParameterValue>;
  /** Opened by the caller; they reach the thread as data and are never logged. */
  connections: ConnectionBundle;
  /** Decides, here in the parent, every host the preview's connectors resolve. */
  destinations: DestinationPolicy;
  limit: number;
  timeoutMs: number;
  /** The files directory and the asking workspace: file sources read its folder only. */
  files?: FilesService;
}

/** A preview killed for running over a limit; the message is for the person who asked for it. */
export class PreviewStoppedError extends Error {
  override name = "PreviewStoppedError";
  constructor(
    readonly reason: "time" | "memory",
    message: string,
    /** From handing the preview to its thread to the thread's end. */
    readonly ranMs: number,
  ) {
    super(message);
  }
}

function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(1))} s`;
}

function previewTimeMessage(limitMs: number): string {
  return (
    `the preview took longer than ${seconds(limitMs)} and was stopped — an expression or a node is too slow for ` +
    "this sample (heavy string or regular-expression functions on long values, a large join or window); " +
    "try fewer records or simplify the expression"
  );
}

function previewMemoryMessage(memoryMb: number): string {
  return (
    `the preview used more than ${memoryMb} MiB of memory and was stopped — the sample holds too much data (very ` +
    "long text built by an expression, large records, or a join, window or aggregate that keeps many of them); " +
    "try fewer records or smaller values"
  );
}

/** Sluice's own settings and secrets stay out of a thread that runs people's expressions and connectors. */
function threadEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value === undefined || name.startsWith("SLUICE_") || name === "REDIS_URL" || name === "DATABASE_URL") continue;
    env[name] = value;
  }
  return env;
}

class PreviewThread {
  private readonly worker: Worker;
  private readonly ready: Promise<void>;
  /** Settles when the thread has exited, with the error that ended it, if any. */
  private readonly gone: Promise<Error | undefined>;
  private timedOut = false;
  private abandoned = false;
  /** The thread has exited (a spare that failed to load, or one that was stopped). */
  exited = false;

  constructor(
    readonly memoryMb: number,
    nodes: string | undefined,
  ) {
    const workerData: PreviewThreadData = { nodes };
    this.worker = new Worker(ENTRY, {
      workerData,
      resourceLimits: { maxOldGenerationSizeMb: memoryMb },
      env: threadEnv(),
    });
    this.worker.unref();
    let error: Error | undefined;
    this.worker.on("error", (e) => {
      error = e;
    });
    this.gone = new Promise((resolve) =>
      this.worker.once("exit", () => {
        this.exited = true;
        resolve(error);
      }),
    );
    this.ready = new Promise<void>((resolve, reject) => {
      const onReady = (m: FromPreviewThread) => {
        if (m.type !== "ready") return;
        this.worker.off("message", onReady);
        resolve();
      };
      this.worker.on("message", onReady);
      void this.gone.then((e) => reject(e ?? new Error("the thread exited while starting")));
    });
    this.ready.catch(() => {});
  }

  /** Resolves once the thread has loaded the node types. */
  async started(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`it did not start within ${seconds(START_LIMIT_MS)}`)), START_LIMIT_MS);
    });
    try {
      await Promise.race([this.ready, late]);
    } catch (err) {
      throw new Error(`the preview could not start on this worker: ${errorMessage(err)}; try again`);
    } finally {
      clearTimeout(timer);
    }
  }

  preview(request: PreviewThreadRequest, limitMs: number, destinations: DestinationPolicy): Promise<PreviewResult> {
    return new Promise<PreviewResult>((resolve, reject) => {
      const posted = performance.now();
      const timer = setTimeout(() => {
        this.timedOut = true;
        void this.worker.terminate();
      }, limitMs + GRACE_MS);
      this.worker.on("message", (m: FromPreviewThread) => {
        if (m.type === "result") {
          clearTimeout(timer);
          resolve(m.result);
        } else if (m.type === "failed") {
          clearTimeout(timer);
          reject(new Error(m.message));
        } else if (m.type === "resolve") {
          destinations
            .for(m.connection)
            .resolve(m.host, m.port, m.target)
            .then(
              (destination) => this.send({ type: "resolved", id: m.id, destination }),
              (err: unknown) =>
                this.send({
                  type: "refused",
                  id: m.id,
                  message: errorMessage(err),
                  permanent: err instanceof PermanentConnectorError,
                  ...(typeof (err as { code?: unknown })?.code === "string"
                    ? { code: (err as { code: string }).code }
                    : {}),
                }),
            );
        }
      });
      // Settles nothing once the answer is in: a promise settles once.
      void this.gone.then((error) => {
        clearTimeout(timer);
        const ranMs = Math.round(performance.now() - posted);
        if (this.abandoned) reject(new Error("the worker computing the preview is shutting down; try again"));
        else if (this.timedOut) reject(new PreviewStoppedError("time", previewTimeMessage(limitMs), ranMs));
        else if ((error as { code?: string } | undefined)?.code === "ERR_WORKER_OUT_OF_MEMORY")
          reject(new PreviewStoppedError("memory", previewMemoryMessage(this.memoryMb), ranMs));
        else reject(new Error(`the preview stopped unexpectedly${error ? `: ${errorMessage(error)}` : ""}`));
      });
      this.send({ type: "preview", request });
    });
  }

  private send(message: ToPreviewThread): void {
    this.worker.postMessage(message);
  }

  /** Terminates the thread; `abandon` says the worker is shutting down, for a preview still running. */
  async stop(abandon = false): Promise<void> {
    this.abandoned ||= abandon;
    await this.worker.terminate();
  }
}

export class PreviewSandbox {
  readonly options: PreviewSandboxOptions;
  private spare: PreviewThread | undefined;
  private spareTimer: NodeJS.Timeout | undefined;
  private readonly running = new Set<PreviewThread>();
  private closed = false;

  constructor(options: Partial<PreviewSandboxOptions> = {}) {
    this.options = { ...DEFAULT_PREVIEW_LIMITS, ...options };
  }

  private thread(): PreviewThread {
    return new PreviewThread(this.options.memoryMb, this.options.nodes);
  }

  /**
   * Runs one preview in a fresh thread. Throws PreviewStoppedError when it ran over its time
   * (min(request, SLUICE_PREVIEW_TIMEOUT), plus a second to answer with what it had) or its memory.
   */
  async run(request: PreviewRequest): Promise<PreviewResult> {
    if (this.closed) throw new Error("the worker is shutting down; try the preview again");
    // A spare that died while waiting (it could not load) is replaced, not blamed on this preview.
    const thread = this.spare && !this.spare.exited ? this.spare : this.thread();
    this.spare = undefined;
    clearTimeout(this.spareTimer);
    this.running.add(thread);
    try {
      await thread.started();
      const limitMs = Math.min(request.timeoutMs, this.options.timeoutMs);
      return await thread.preview(
        {
          definition: request.definition,
          parameters: request.parameters,
          connections: request.connections,
          limit: request.limit,
          timeoutMs: limitMs,
          ...(this.options.maxResultBytes !== undefined ? { maxResultBytes: this.options.maxResultBytes } : {}),
          ...(request.files ? { files: request.files } : {}),
        },
        limitMs,
        request.destinations,
      );
    } catch (err) {
      if (err instanceof PreviewStoppedError) throw err;
      // A thread that died of an error may have been quoting a connection.
      throw new Error(secretScrubber(bundleSecrets(request.connections)).text(errorMessage(err)));
    } finally {
      this.running.delete(thread);
      await thread.stop();
      this.keepSpare();
    }
  }

  private keepSpare(): void {
    if (this.closed || this.spare) return;
    this.spare = this.thread();
    this.spareTimer = setTimeout(() => {
      const idle = this.spare;
      this.spare = undefined;
      void idle?.stop();
    }, SPARE_IDLE_MS);
    this.spareTimer.unref();
  }

  /** Kills every preview thread; previews still running fail with a message saying why. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.spareTimer);
    const threads = [...this.running, ...(this.spare ? [this.spare] : [])];
    this.spare = undefined;
    await Promise.allSettled(threads.map((t) => t.stop(true)));
  }
}
