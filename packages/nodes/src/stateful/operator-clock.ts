import type { StateStore } from "../runtime-contract";

// What a stateful operator must remember about time across a failover, in its own state store: the last
// watermark it acted on (records of the first batch after a takeover are judged late or not before the engine
// reports a watermark again), the processing-time clock (so processing-time windows never reopen when a new
// worker's clock is behind), and an arrival counter that breaks ties the same way on every replay.

/** JSON has no infinity; the end of input is stored as the latest time JavaScript dates can hold. */
const END_OF_TIME = 8.64e15;

export class OperatorClock {
  private wm: number;
  private pt: number;
  private seq: number;

  constructor(private readonly store: StateStore<number>) {
    const wm = store.get("wm");
    this.wm = wm === undefined ? Number.NEGATIVE_INFINITY : wm >= END_OF_TIME ? Number.POSITIVE_INFINITY : wm;
    this.pt = store.get("pt") ?? Number.NEGATIVE_INFINITY;
    this.seq = store.get("seq") ?? 0;
  }

  /** The last watermark seen (−∞ before the first). */
  get watermark(): number {
    return this.wm;
  }

  /** Moves the watermark forward; false (and nothing changes) when `wm` is not ahead of it. */
  advance(wm: number): boolean {
    if (!(wm > this.wm)) return false;
    this.wm = wm;
    this.store.set("wm", Math.min(wm, END_OF_TIME));
    return true;
  }

  /** The latest processing time the operator acted on (−∞ before the first). */
  get processingTime(): number {
    return this.pt;
  }

  /** The processing time now: the wall clock, but never behind a time this operator already acted on. */
  now(wallClock = Date.now()): number {
    return Math.max(wallClock, this.pt);
  }

  /** Records that the operator acted on processing time `now` (closed windows, expired keys up to it). */
  reached(now: number): void {
    if (now > this.pt) {
      this.pt = now;
      this.store.set("pt", now);
    }
  }

  /** 1, 2, 3, … in arrival order, remembered across failovers. */
  nextSequence(): number {
    this.seq++;
    this.store.set("seq", this.seq);
    return this.seq;
  }
}
