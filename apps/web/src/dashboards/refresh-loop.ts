// How a dashboard refreshes: every tile at once (the caller's `run` starts them together), then the next refresh
// `periodMs` after the last one ended — so refreshes never stack, however slow a tile is. A refresh asked for while
// one is in flight waits for it and then runs once (many asks make one). While the tab is hidden nothing runs; a
// refresh that fell due meanwhile runs when the tab is shown again.

export interface RefreshLoopOptions {
  /** Refreshes everything; its failures are the tiles' to show, the loop goes on regardless. */
  run: () => Promise<void>;
  /** Whether the page is hidden now (document.hidden). */
  hidden: () => boolean;
  setTimeout?: (fn: () => void, ms: number) => unknown;
  clearTimeout?: (handle: unknown) => void;
}

export class RefreshLoop {
  private periodMs = 0;
  private timer: unknown = null;
  private inFlight: Promise<void> | null = null;
  private queued: Promise<void> | null = null;
  private due = false;
  private stopped = false;
  private readonly set: (fn: () => void, ms: number) => unknown;
  private readonly clear: (handle: unknown) => void;

  constructor(private readonly opts: RefreshLoopOptions) {
    this.set = opts.setTimeout ?? ((fn, ms) => globalThis.setTimeout(fn, ms));
    this.clear = opts.clearTimeout ?? ((h) => globalThis.clearTimeout(h as ReturnType<typeof setTimeout>));
  }

  /** Whether a refresh is running now. */
  get busy(): boolean {
    return this.inFlight !== null;
  }

  /** Changes the period (0: no automatic refresh); the next refresh is counted from now. */
  setPeriod(periodMs: number): void {
    this.periodMs = periodMs;
    this.schedule();
  }

  /** Refreshes now, or right after the refresh in flight; resolves when that refresh has ended. */
  refresh(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.inFlight) {
      this.queued ??= this.inFlight.then(() => {
        this.queued = null;
        return this.refresh();
      });
      return this.queued;
    }
    this.due = false;
    this.clearTimer();
    this.inFlight = this.opts
      .run()
      .catch(() => undefined)
      .finally(() => {
        this.inFlight = null;
        if (!this.queued) this.schedule();
      });
    return this.inFlight;
  }

  /** The page was shown or hidden: a refresh that fell due while hidden runs now. */
  visibilityChanged(): void {
    if (!this.opts.hidden() && this.due) void this.refresh();
  }

  stop(): void {
    this.stopped = true;
    this.clearTimer();
  }

  private schedule(): void {
    this.clearTimer();
    if (this.stopped || this.periodMs <= 0 || this.inFlight) return;
    this.timer = this.set(() => {
      this.timer = null;
      if (this.opts.hidden()) this.due = true;
      else void this.refresh();
    }, this.periodMs);
  }

  private clearTimer(): void {
    if (this.timer !== null) this.clear(this.timer);
    this.timer = null;
  }
}
