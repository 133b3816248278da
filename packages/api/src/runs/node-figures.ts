import type { Keys } from "@sluice/pipeline/control/keys";
import {
  type FiguresReader,
  figuresView,
  type RunFiguresView,
  readNodeFigures,
} from "@sluice/pipeline/control/node-figures";
import { type RunStateReader, readRunSnapshot } from "@sluice/pipeline/control/run-reader";
import { isTerminal } from "@sluice/pipeline/control/run-status";

// The live node figures of one run (runs.figures): once a second, the last complete second's figures that workers
// published (see @sluice/pipeline/control/node-figures) with the run's committed totals, until the run ends.

/** Workers publish just after a second turns; reading this long after leaves them time to land. */
const READ_AFTER_MS = 300;
/** At most this many seconds are read at once after a late wake-up; everySecond (figures-resume.ts) fills older ones. */
const MAX_CATCH_UP = 5;

/** The second the live figures show at `nowMs`: the last complete one whose figures have landed. */
export function liveSecond(nowMs = Date.now()): number {
  return Math.floor((nowMs - READ_AFTER_MS) / 1000) - 1;
}

/**
 * Until `sec` can be read (READ_AFTER_MS after it ends). The wait runs to that instant, not to "the next read time
 * from now": a timer that fired a little early (timers and the wall clock drift apart) finds its second not ready,
 * and the reads it then makes can carry the clock past the read time — measured from now, the wait would be a whole
 * second more, and that second would reach every watcher a second late.
 */
function untilReadable(sec: number, signal: AbortSignal | undefined): Promise<void> {
  const wait = Math.max(0, (sec + 1) * 1000 + READ_AFTER_MS - Date.now());
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, wait);
    signal?.addEventListener("abort", done, { once: true });
  });
}

export async function* liveNodeFigures(
  redis: FiguresReader & RunStateReader,
  keys: Keys,
  runId: string,
  signal: AbortSignal | undefined,
  /** Whether the run has ended by its record in PostgreSQL: asked while Redis has no live state for it. */
  ended: () => Promise<boolean>,
): AsyncGenerator<RunFiguresView> {
  let last: number | undefined;
  while (!signal?.aborted) {
    const sec = liveSecond();
    // A wake-up that came a second or more late (a busy event loop) reads the seconds it passed over too, so the
    // sequence has no holes; one that came early reads nothing new and waits again.
    const first = last === undefined ? sec : Math.max(last + 1, sec - MAX_CATCH_UP + 1);
    const seconds = Array.from({ length: Math.max(0, sec - first + 1) }, (_, i) => first + i);
    if (seconds.length === 0 && last !== undefined) {
      await untilReadable(last + 1, signal);
      continue;
    }
    const [snapshot, ...figures] = await Promise.all([
      readRunSnapshot(redis, keys, runId),
      ...seconds.map((s) => readNodeFigures(redis, keys, runId, s, s)),
    ]);
    // A run whose live state is not there yet (or any more) shows nothing; its end is told by its status.
    if (snapshot) {
      for (const f of figures) yield figuresView(runId, f, snapshot.nodes);
      last = seconds.at(-1) ?? last;
      if (isTerminal(snapshot.status)) return;
    } else if (await ended()) {
      return; // its live state expired with the run's retention: nothing will come
    }
    await untilReadable((last ?? sec) + 1, signal);
  }
}
