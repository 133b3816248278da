import { createLogger, type Logger, type LogLevel } from "@sluice/log/logger";
import type { Keys } from "@sluice/pipeline/control/keys";
import { APPEND_LOGS_LUA } from "@sluice/pipeline/control/run-logs";
import type { Redis } from "ioredis";

// Copies the worker's lines about a run into the run's log stream (run-logs.ts), for the run's page. Lines reach
// it through a logger of its own (teed next to the process's, see fleet-worker.ts), so pino redacts secrets and
// applies the run-log level before anything is kept. Writing never waits for Redis: lines are buffered and sent in
// batches every quarter second; while Redis is slow and the buffer is full, new lines are dropped and counted, and
// the count goes into each affected run's log as one line once Redis keeps up again.

const FLUSH_EVERY_MS = 250;
/** Lines held in memory at most while Redis is slow or away. */
const MAX_BUFFERED = 5000;
/** Longest line kept: a line with a huge field is cut (and no longer JSON, so readers skip it); 16 KiB. */
const MAX_LINE_CHARS = 16_384;

export interface RunLogSinkOptions {
  redis: Redis;
  keys: Keys;
  /** Lines below this level are not kept; `silent` keeps none. */
  level: LogLevel;
  workerId: string;
}

export class RunLogSink {
  /** The logger whose lines (with a `run` binding) are kept: tee it with the worker's own. */
  readonly logger: Logger;
  private buffer = new Map<string, string[]>();
  private buffered = 0;
  private readonly dropped = new Map<string, number>();
  private flushing: Promise<void> | undefined;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly options: RunLogSinkOptions) {
    this.logger = createLogger({
      level: options.level,
      format: "json",
      destination: { write: (line: string) => this.take(line) },
    }).child({ worker: options.workerId });
    this.timer = setInterval(() => void this.flush(), FLUSH_EVERY_MS);
    this.timer.unref();
  }

  /** Lines dropped so far because Redis did not keep up (per run, until they are reported in its log). */
  get droppedLines(): number {
    return [...this.dropped.values()].reduce((a, b) => a + b, 0);
  }

  private take(line: string): void {
    // The run's id, without parsing the whole line: bindings come first in pino's output, `"run":"<id>"`.
    const match = /"run":"([^"\\]+)"/.exec(line);
    if (!match) return;
    const runId = match[1]!;
    if (this.buffered >= MAX_BUFFERED) {
      this.dropped.set(runId, (this.dropped.get(runId) ?? 0) + 1);
      return;
    }
    const text = line.endsWith("\n") ? line.slice(0, -1) : line;
    const lines = this.buffer.get(runId) ?? [];
    lines.push(text.length > MAX_LINE_CHARS ? text.slice(0, MAX_LINE_CHARS) : text);
    this.buffer.set(runId, lines);
    this.buffered++;
  }

  /** Sends what is buffered; one flush at a time (a slow Redis makes the next lines wait in the buffer). */
  flush(): Promise<void> {
    this.flushing ??= this.send().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  private async send(): Promise<void> {
    const batch = this.buffer;
    this.buffer = new Map();
    this.buffered = 0;
    const { redis, keys } = this.options;
    for (const [runId, count] of this.dropped) {
      const lines = batch.get(runId) ?? [];
      lines.push(
        JSON.stringify({
          level: 40,
          time: new Date().toISOString(),
          run: runId,
          worker: this.options.workerId,
          msg: `${count} log line${count === 1 ? "" : "s"} of this run were not kept: Redis did not keep up`,
          dropped: count,
        }),
      );
      batch.set(runId, lines);
    }
    this.dropped.clear();
    await Promise.all(
      [...batch].map(async ([runId, lines]) => {
        try {
          await redis.eval(APPEND_LOGS_LUA, 2, keys.runMeta(runId), keys.runLogs(runId), ...lines);
        } catch {
          // Redis is away: these lines are lost, and counted for the run's log.
          this.dropped.set(runId, (this.dropped.get(runId) ?? 0) + lines.length);
        }
      }),
    );
  }

  /** Sends what is left and stops. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
    if (this.buffered > 0) await this.flush();
  }
}
