import type { Db } from "@sluice/db/client";
import type { Keys } from "@sluice/pipeline/control/keys";
import { TERMINAL_DB_STATUSES } from "@sluice/pipeline/control/run-status";
import { tracked } from "@trpc/server";
import type { Redis } from "ioredis";
import { watchRunFigures } from "./figures-feed";
import { everySecond } from "./figures-resume";
import { sharedReads } from "./shared-reads";

/**
 * A run's per-second figures as a tracked SSE stream, ending with the run: what `runs.figures` and a shared live view
 * (`shares.figures`) serve, once the caller is known to be allowed. One feed per run and web process reads each
 * second once for all its watchers (figures-feed.ts). Back after a dropped connection (`lastEventId`), the seconds
 * missed come first, so charts have no hole; watchers coming back together read those seconds once (shared-reads.ts).
 */
export async function* runFigureStream(
  ctx: { db: Db; redis: Redis; keys: Keys },
  runId: string,
  lastEventId: string | undefined,
  signal: AbortSignal | undefined,
) {
  const ended = async () => {
    const run = await ctx.db.run.findUnique({ where: { id: runId }, select: { status: true } });
    return !run || TERMINAL_DB_STATUSES.includes(run.status);
  };
  const live = watchRunFigures(ctx.redis, ctx.keys, runId, signal, ended);
  const after = lastEventId === undefined ? undefined : Number(lastEventId);
  for await (const view of everySecond(sharedReads(ctx.redis), ctx.keys, runId, after, live)) {
    yield tracked(String(view.sec), view);
  }
}
