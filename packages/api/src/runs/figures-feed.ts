import type { Keys } from "@sluice/pipeline/control/keys";
import type { FiguresReader, RunFiguresView } from "@sluice/pipeline/control/node-figures";
import type { RunStateReader } from "@sluice/pipeline/control/run-reader";
import { liveNodeFigures } from "./node-figures";

// Everyone in a web process who watches one run's live figures (runs.figures) listens to one feed: one loop reads
// each second once and hands the same view to every watcher. A watcher costs a queue entry a second, not a timer,
// two Redis reads and a DB query; and all watchers get a second in the same instant. A watcher's own gaps (it came
// back after a dropped connection, or fell so far behind that its queue was trimmed) are filled per watcher by
// everySecond (figures-resume.ts) from what Redis keeps.

type LiveReader = FiguresReader & RunStateReader;

/** Seconds a watcher may fall behind before its oldest are dropped (everySecond reads them back from Redis). */
const MAX_QUEUED = 30;

interface Watcher {
  queue: RunFiguresView[];
  /** Wakes the watcher's iterator when something arrives or the feed ends. */
  wake: (() => void) | undefined;
  done: boolean;
  error: unknown;
}

class RunFeed {
  private readonly watchers = new Set<Watcher>();
  private readonly stop = new AbortController();
  /** The newest second read: a watcher who joins gets it at once, not a second later. */
  private latest: RunFiguresView | undefined;

  constructor(
    private readonly redis: LiveReader,
    private readonly keys: Keys,
    private readonly runId: string,
    private readonly ended: () => Promise<boolean>,
    /** Takes the feed out of the registry: called once, the moment it stops taking watchers. */
    private readonly retire: () => void,
  ) {}

  start(): void {
    void this.loop();
  }

  private async loop(): Promise<void> {
    let error: unknown;
    try {
      const live = liveNodeFigures(this.redis, this.keys, this.runId, this.stop.signal, this.ended);
      for await (const view of live) {
        this.latest = view;
        for (const w of this.watchers) {
          w.queue.push(view);
          if (w.queue.length > MAX_QUEUED) w.queue.shift();
          w.wake?.();
        }
      }
    } catch (err) {
      error = err;
    }
    // The run ended or the read failed: this feed is done, and tells its watchers so; a later watcher starts another.
    this.retire();
    for (const w of this.watchers) {
      w.done = true;
      w.error = error;
      w.wake?.();
    }
    this.watchers.clear();
  }

  /** Registers a watcher now (not at its first pull) and returns its views in order. */
  watch(signal: AbortSignal | undefined): AsyncGenerator<RunFiguresView> {
    const w: Watcher = { queue: this.latest ? [this.latest] : [], wake: undefined, done: false, error: undefined };
    this.watchers.add(w);
    const leave = () => {
      if (!this.watchers.delete(w)) return;
      w.done = true;
      w.wake?.();
      if (this.watchers.size === 0) {
        // Nobody left: out of the registry first, so a watcher arriving now starts a fresh feed, not this ending one.
        this.retire();
        this.stop.abort();
      }
    };
    if (signal?.aborted) leave();
    else signal?.addEventListener("abort", leave, { once: true });
    return (async function* () {
      try {
        while (true) {
          const view = w.queue.shift();
          if (view) {
            yield view;
            continue;
          }
          if (w.done) break;
          await new Promise<void>((resolve) => {
            w.wake = resolve;
          });
          w.wake = undefined;
        }
        if (w.error !== undefined) throw w.error;
      } finally {
        signal?.removeEventListener("abort", leave);
        leave();
      }
    })();
  }
}

const feedsByConnection = new WeakMap<LiveReader, Map<string, RunFeed>>();

/**
 * The run's live seconds as one feed per web process (per Redis connection): the same views in the same instant for
 * every watcher, ending when the run does (or the feed's read fails, which ends every watcher with that error).
 */
export function watchRunFigures(
  redis: LiveReader,
  keys: Keys,
  runId: string,
  signal: AbortSignal | undefined,
  ended: () => Promise<boolean>,
): AsyncGenerator<RunFiguresView> {
  let feeds = feedsByConnection.get(redis);
  if (!feeds) {
    feeds = new Map();
    feedsByConnection.set(redis, feeds);
  }
  const byRun = feeds;
  const feedKey = `${keys.prefix}\u0000${runId}`;
  let feed = byRun.get(feedKey);
  if (!feed) {
    const created: RunFeed = new RunFeed(redis, keys, runId, ended, () => {
      if (byRun.get(feedKey) === created) byRun.delete(feedKey);
    });
    byRun.set(feedKey, created);
    created.start();
    feed = created;
  }
  return feed.watch(signal);
}
