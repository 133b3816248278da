import type { TimerQueue } from "./timer-queue";
import { type FixedWindows, firstWindowStart, windowCount } from "./window-spec";

// Tumbling and hopping windows kept as panes: slices of time (the gcd of size and every; the window itself when
// tumbling) that every window holds whole or not at all. A record updates the one pane it falls in, however many
// windows overlap, and a window's result combines its panes when it fires. State entries are keyed
// `${paneEnd}/${key}`; timers fire windows by (window end, key) and drop panes by (last window end + lateness,
// state key).

export class Panes {
  readonly size: number;
  readonly every: number;
  /** Pane length. */
  readonly pane: number;

  constructor(readonly windows: FixedWindows) {
    this.size = windows.size;
    this.every = windows.every;
    this.pane = gcd(windows.size, windows.every);
  }

  /** End of the pane that holds `time`. */
  paneEnd(time: number): number {
    return Math.floor(time / this.pane) * this.pane + this.pane;
  }

  /** End of the earliest window that holds `time`; the others end `every` apart after it. */
  firstEnd(time: number): number {
    return firstWindowStart(this.windows, time) + this.size;
  }

  /** How many windows hold `time`. */
  count(time: number): number {
    return windowCount(this.windows, time);
  }

  /**
   * Timers of a pane that just got its first entry for a key: each window holding it that is still open
   * (ends after `closed`) fires at its end; the pane is dropped once the last of them is closed for good.
   */
  schedule(
    fire: TimerQueue,
    expire: TimerQueue,
    paneEnd: number,
    keyText: string,
    closed: number,
    lateness: number,
  ): void {
    const paneStart = paneEnd - this.pane;
    const firstEnd = this.firstEnd(paneStart);
    const n = this.count(paneStart);
    for (let i = 0; i < n; i++) {
      const end = firstEnd + i * this.every;
      if (end > closed) fire.add(end, keyText);
    }
    expire.add(firstEnd + (n - 1) * this.every + lateness, stateKey(paneEnd, keyText));
  }

  /** Ends of the windows holding pane `paneEnd` that end after `closed`, ascending. */
  openWindows(paneEnd: number, closed: number): number[] {
    const paneStart = paneEnd - this.pane;
    const firstEnd = this.firstEnd(paneStart);
    const n = this.count(paneStart);
    const ends: number[] = [];
    for (let i = 0; i < n; i++) {
      const end = firstEnd + i * this.every;
      if (end > closed) ends.push(end);
    }
    return ends;
  }

  /** Ends of the panes that make up the window ending at `end`, in time order. */
  panesOf(end: number): number[] {
    const ends: number[] = [];
    for (let p = end - this.size + this.pane; p <= end; p += this.pane) ends.push(p);
    return ends;
  }
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

export function stateKey(time: number, keyText: string): string {
  return `${time}/${keyText}`;
}

/** The time before the slash of `${time}/${key}`. */
export function timePart(key: string): number {
  return Number(key.slice(0, key.indexOf("/")));
}

/** The key text after the slash of `${time}/${key}`. */
export function keyPart(key: string): string {
  return key.slice(key.indexOf("/") + 1);
}

/** Orders `${time}/${key}` keys by time, then key text. */
export function byTimeThenKey(a: string, b: string): number {
  const d = timePart(a) - timePart(b);
  return d !== 0 ? d : a < b ? -1 : a > b ? 1 : 0;
}
