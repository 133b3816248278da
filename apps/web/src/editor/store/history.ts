// Undo and redo for the editor: a bounded stack of snapshots. A snapshot holds the arrays as they were (the
// arrays and their elements are never mutated, so a snapshot costs one reference per array). Successive edits
// with the same coalescing key (typing into one field, nudging a node) inside a short pause become one step.

const HISTORY_LIMIT = 200;
const COALESCE_MS = 1000;

export class History<S> {
  private past: S[] = [];
  private future: S[] = [];
  private lastKey: string | null = null;
  private lastAt = 0;

  constructor(
    private readonly limit = HISTORY_LIMIT,
    private readonly coalesceMs = COALESCE_MS,
    private readonly now: () => number = Date.now,
  ) {}

  get canUndo(): boolean {
    return this.past.length > 0;
  }

  get canRedo(): boolean {
    return this.future.length > 0;
  }

  /**
   * Records `current` (the state before an edit) as an undo step, unless the edit continues the previous one:
   * same key, within the pause. Any new step clears what could be redone.
   */
  record(current: S, key?: string): void {
    const now = this.now();
    if (key !== undefined && key === this.lastKey && now - this.lastAt <= this.coalesceMs) {
      this.lastAt = now;
      this.future = [];
      return;
    }
    this.past.push(current);
    if (this.past.length > this.limit) this.past.shift();
    this.future = [];
    this.lastKey = key ?? null;
    this.lastAt = now;
  }

  /** Ends a run of coalesced edits, so the next edit with the same key is its own step. */
  seal(): void {
    this.lastKey = null;
  }

  /** The state to go back to, given the current one (kept for redo); undefined when there is nothing to undo. */
  undo(current: S): S | undefined {
    const previous = this.past.pop();
    if (previous === undefined) return undefined;
    this.future.push(current);
    this.seal();
    return previous;
  }

  redo(current: S): S | undefined {
    const next = this.future.pop();
    if (next === undefined) return undefined;
    this.past.push(current);
    this.seal();
    return next;
  }

  clear(): void {
    this.past = [];
    this.future = [];
    this.seal();
  }
}
