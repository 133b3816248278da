import type { Db } from "@sluice/db/client";
import type { Prisma } from "@sluice/db/generated/prisma/client";
import type { Keys } from "@sluice/pipeline/control/keys";
import {
  compareEventIds,
  parseRunEvent,
  type RunEvent,
  type RunEventsClient,
  readRunEventEntries,
  readRunEvents,
} from "@sluice/pipeline/control/run-events";
import { TRPCError } from "@trpc/server";

// A run's timeline as the API shows it: the events still in the run's Redis stream, together with those the
// reconciler copied into PostgreSQL when the run ended (all of them once Redis has let the run go). Both hold the
// same stream ids, so the union is exact: a restarted run's earlier copy and its live stream overlap without
// doubling.

/** Events one timeline lists at most: the stream keeps about 1,000, and restarts add their own. */
const MAX_EVENTS = 5000;

/** Copies the run's stream into PostgreSQL; entries copied before are skipped. Returns how many were new. */
export async function copyRunEvents(db: Db, redis: RunEventsClient, keys: Keys, runId: string): Promise<number> {
  const entries = await readRunEventEntries(redis, keys, runId);
  if (entries.length === 0) return 0;
  // The fields as the stream holds them (strings), so one parser reads both copies.
  const rows = entries.map(({ id, fields: { kind, ...detail } }) => ({
    runId,
    streamId: id,
    at: new Date(Number(id.split("-")[0])),
    kind: kind ?? "",
    detail: detail as Prisma.InputJsonValue,
  }));
  const { count } = await db.runEvent.createMany({ data: rows, skipDuplicates: true });
  return count;
}

/** The run's timeline, oldest first; NOT_FOUND for a run outside the workspace. */
export async function readRunTimeline(
  deps: { db: Db; redis: RunEventsClient; keys: Keys },
  workspaceId: string,
  runId: string,
): Promise<RunEvent[]> {
  const run = await deps.db.run.findFirst({ where: { id: runId, workspaceId }, select: { id: true } });
  if (!run) throw new TRPCError({ code: "NOT_FOUND", message: "no such run in this workspace" });
  const [stored, live] = await Promise.all([
    deps.db.runEvent.findMany({ where: { runId }, orderBy: { at: "asc" }, take: MAX_EVENTS }),
    readRunEvents(deps.redis, deps.keys, runId),
  ]);
  const byId = new Map<string, RunEvent>();
  for (const row of stored) {
    const detail = (row.detail ?? {}) as Record<string, string>;
    const event = parseRunEvent(row.streamId, { ...detail, kind: row.kind });
    if (event) byId.set(event.id, event);
  }
  for (const event of live) byId.set(event.id, event);
  return [...byId.values()].sort((a, b) => compareEventIds(a.id, b.id)).slice(-MAX_EVENTS);
}
