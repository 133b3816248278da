import type { OffsetLag } from "@sluice/pipeline/control/node-figures";
import type { BatchIntent } from "./task-commit";

// Where a partition's batches come from: the stage's own sources (source-input.ts) or the shuffle streams of the
// stages feeding it (shuffle-input.ts). The partition loop asks its input for a batch and knows no more of it.

/** The longest a partition waits before reading again after a batch that found nothing. */
export const MAX_IDLE_SLEEP_MS = 25;

/** What one batch read from the input. */
export interface InputRead {
  /** Records handed to the stage. */
  records: number;
  /** Every input has ended: this is the partition's last batch. */
  ended: boolean;
  /** How long the sources suggest waiting before reading again if nothing arrived. */
  idleMs: number;
  /** What was read, as recorded before the sinks write so that a new owner reads exactly it again. */
  extent: Omit<BatchIntent, "seq">;
}

/** A batch that read nothing. */
export const NOTHING_READ: Readonly<InputRead> = Object.freeze({
  records: 0,
  ended: false,
  idleMs: MAX_IDLE_SLEEP_MS,
  extent: Object.freeze({ sources: {}, upstreams: {} }),
});

export interface InputBatch {
  /** Task-state fields the batch commits: the input adds the positions it moved. */
  set: Record<string, string>;
  now: number;
  /** The recorded input of a written, uncommitted batch to read exactly again (see TaskState.recordIntent). */
  bound: BatchIntent | null;
  shutdown: AbortSignal;
}

export interface TaskInput {
  /** Reads the next batch into the stage after the committed position. */
  read(batch: InputBatch): Promise<InputRead>;
  /** Whether a stop takes effect now: a source stage stops at once, the others once every upstream has stopped. */
  drained(generation: number): boolean;
  /** The input's event-time position at `now`; `held` is the stage's watermark, which an idle input keeps. */
  watermark(now: number, held: number): { value: number; idle: boolean };
  /** The task ends: reads it started ahead are waited for before its sources close. */
  settle?(): Promise<void>;
  /** The batch was committed: sources acknowledge their offsets, consumed shuffle entries are trimmed. */
  committed(): Promise<void>;
  /** How long to wait after a batch in which nothing happened, given the wait its read suggested. */
  quietWait(idleMs: number, pollMs: number): number;
  /** A batch did something: the next quiet wait starts short again. */
  busy(): void;
  /**
   * How far the input is behind what there is to read, per node it feeds, in the input's own unit (shuffle
   * entries; a source's messages or bytes); undefined when it cannot say cheaply. Asked at most once a second.
   */
  lag(): Promise<Record<string, number> | undefined>;
  /**
   * Per source node that can say (SourceReader.offsetLag), how far it is behind what its system holds for this
   * partition. Only a stage that starts at sources has it. Asked at most once a second, never twice at once.
   */
  offsetLag?(): Promise<Map<string, OffsetLag>>;
}
