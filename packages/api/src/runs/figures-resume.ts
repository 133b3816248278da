import type { Keys } from "@sluice/pipeline/control/keys";
import {
  FIGURES_TTL_MS,
  type FiguresReader,
  figuresView,
  type RunFiguresView,
  readNodeFigures,
} from "@sluice/pipeline/control/node-figures";
import { type RunStateReader, readRunSnapshot } from "@sluice/pipeline/control/run-reader";
import { liveSecond } from "./node-figures";

// A client of runs.figures that comes back after its connection dropped (a web server restart, a network blip) says
// which second it got last. The seconds it missed since are still in Redis for FIGURES_TTL_MS, more recent than
// anything the history roll-up has written: they are sent first, one event each, before the live seconds go on. The
// same fills a second the live loop skipped.

/**
 * The run's seconds after `afterSec` and before `beforeSec` (by default the current live second, which
 * liveNodeFigures sends), oldest first, as far back as Redis keeps them. Totals are the run's current ones: a
 * replayed second's rates are its own, its totals are not.
 */
async function* missedFigures(
  redis: FiguresReader & RunStateReader,
  keys: Keys,
  runId: string,
  afterSec: number,
  beforeSec = liveSecond(),
  nowMs = Date.now(),
): AsyncGenerator<RunFiguresView> {
  const first = Math.max(afterSec + 1, Math.floor((nowMs - FIGURES_TTL_MS) / 1000) + 1);
  if (first >= beforeSec) return;
  const snapshot = await readRunSnapshot(redis, keys, runId);
  if (!snapshot) return;
  for (let sec = first; sec < beforeSec; sec++) {
    yield figuresView(runId, await readNodeFigures(redis, keys, runId, sec, sec), snapshot.nodes);
  }
}

/**
 * The live seconds with none left out: a second they skip (the client was away since `afterSec`, or the read after
 * a second came late on a busy server) is read back from Redis and sent before the next one; none is sent twice.
 */
export async function* everySecond(
  redis: FiguresReader & RunStateReader,
  keys: Keys,
  runId: string,
  afterSec: number | undefined,
  live: AsyncIterable<RunFiguresView>,
): AsyncGenerator<RunFiguresView> {
  let last = afterSec;
  for await (const view of live) {
    if (last !== undefined && view.sec <= last) continue;
    if (last !== undefined && view.sec > last + 1) yield* missedFigures(redis, keys, runId, last, view.sec);
    yield view;
    last = view.sec;
  }
}
