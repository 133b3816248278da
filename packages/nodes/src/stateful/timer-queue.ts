// The timers of a stateful operator: keys that come due at a time (a window's end, a buffered record's expiry).
// Timers are taken in time order and, within one time, in key order, so what an operator fires is the same
// whatever order the timers were set in — including after they were rebuilt from state on a failover.
// It lives in memory only: operators rebuild it from their state stores when they start.

export interface DueTimers {
  time: number;
  /** Sorted. */
  keys: string[];
}

export class TimerQueue {
  /** Distinct times, a binary min-heap; may hold times whose keys were all deleted (skipped when reached). */
  private heap: number[] = [];
  private readonly byTime = new Map<number, Set<string>>();
  private count = 0;

  add(time: number, key: string): void {
    let keys = this.byTime.get(time);
    if (!keys) {
      keys = new Set();
      this.byTime.set(time, keys);
      this.push(time);
    }
    if (!keys.has(key)) {
      keys.add(key);
      this.count++;
    }
  }

  delete(time: number, key: string): void {
    const keys = this.byTime.get(time);
    if (!keys?.delete(key)) return;
    this.count--;
    if (keys.size === 0) this.byTime.delete(time);
  }

  has(time: number, key: string): boolean {
    return this.byTime.get(time)?.has(key) ?? false;
  }

  /** Number of timers set. */
  get size(): number {
    return this.count;
  }

  /** The earliest time with timers, if any. */
  peek(): number | undefined {
    this.dropStale();
    return this.heap[0];
  }

  /**
   * Removes and returns the timers of the earliest time, if that time is due: at most `limit`, or (with `strict`)
   * before it. Call repeatedly to drain everything due; timers added meanwhile are seen too.
   */
  takeDue(limit: number, strict = false): DueTimers | undefined {
    const time = this.peek();
    if (time === undefined || (strict ? time >= limit : time > limit)) return undefined;
    const keys = this.byTime.get(time)!;
    this.byTime.delete(time);
    this.count -= keys.size;
    this.pop();
    return { time, keys: [...keys].sort() };
  }

  /** Takes every timer due by `limit` (see takeDue) and calls `fire` for each, in order. */
  drain(limit: number, fire: (time: number, key: string) => void, strict = false): void {
    for (let due = this.takeDue(limit, strict); due; due = this.takeDue(limit, strict)) {
      for (const key of due.keys) fire(due.time, key);
    }
  }

  clear(): void {
    this.heap = [];
    this.byTime.clear();
    this.count = 0;
  }

  private dropStale(): void {
    while (this.heap.length > 0 && !this.byTime.has(this.heap[0]!)) this.pop();
  }

  /** `time` is already in `byTime`. */
  private push(time: number): void {
    // Timers that move (a session growing) leave stale times behind; rebuild before they dominate the heap.
    if (this.heap.length > 1024 && this.heap.length > 4 * this.byTime.size) {
      this.heap = [...this.byTime.keys()].sort((a, b) => a - b);
      return;
    }
    const heap = this.heap;
    let i = heap.length;
    heap.push(time);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = heap[parent]!;
      if (p <= time) break;
      heap[i] = p;
      i = parent;
    }
    heap[i] = time;
  }

  private pop(): void {
    const heap = this.heap;
    const last = heap.pop()!;
    if (heap.length === 0) return;
    const n = heap.length;
    let i = 0;
    while (true) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && heap[r]! < heap[l]! ? r : l;
      if (heap[c]! >= last) break;
      heap[i] = heap[c]!;
      i = c;
    }
    heap[i] = last;
  }
}
