import type { Db } from "@sluice/db/client";
import { type DeadLetterGroupRef, deadLetterReason, matchesGroup } from "@sluice/pipeline/control/dead-letter-reason";
import type { Keys } from "@sluice/pipeline/control/keys";
import { parseRunMeta, type RunMeta, runTaskRefs } from "@sluice/pipeline/control/protocol";
import {
  countDeadLetters,
  type DeadLetterView,
  parseDeadLetterId,
  readDeadLetters,
  scanDeadLetters,
} from "@sluice/pipeline/control/run-reader";
import { TRPCError } from "@trpc/server";
import type { Redis } from "ioredis";
import { replayRefusal } from "./dead-letter-actions";

// A run's dead letters a page at a time: how many it holds in all, and pages newest first that follow one another
// by cursor (the id of the last letter of the page before). Letters that arrive while someone pages are newer than
// any cursor, so they show on the first page and never shift the later ones. And all of them grouped by node and
// reason (dead-letter-reason.ts), with counts: a group filters the pages.

interface DeadLetterPage {
  /** Every dead letter the run holds now, over all its partitions. */
  total: number;
  /** Dead letters people discarded, over all partitions. */
  discarded: number;
  /** Why a replay cannot work now (the run has ended); null while it can. */
  replayRefusal: string | null;
  letters: DeadLetterView[];
  /** The cursor of the page after this one; null on the last page. */
  next: string | null;
}

type Deps = { db: Db; redis: Redis; keys: Keys };

async function ownRun(db: Db, workspaceId: string, runId: string) {
  const run = await db.run.findFirst({ where: { id: runId, workspaceId }, select: { id: true, status: true } });
  if (!run) throw new TRPCError({ code: "NOT_FOUND", message: "no such run in this workspace" });
  return run;
}

async function countDiscarded(deps: Deps, runId: string, meta: RunMeta): Promise<number> {
  const counts = await Promise.all(
    runTaskRefs(runId, meta.stages).map((t) => deps.redis.get(deps.keys.taskDiscarded(t))),
  );
  return counts.reduce((sum, n) => sum + Number(n ?? 0), 0);
}

export async function listDeadLetterPage(
  deps: Deps,
  workspaceId: string,
  runId: string,
  page: { limit: number; after?: string | undefined; group?: DeadLetterGroupRef | undefined },
): Promise<DeadLetterPage> {
  const run = await ownRun(deps.db, workspaceId, runId);
  const after = page.after === undefined ? undefined : parseDeadLetterId(page.after);
  if (page.after !== undefined && !after) {
    const message = `after: "${page.after}" is not a dead letter id as listed, e.g. 0.2.1700000000000-0`;
    throw new TRPCError({ code: "BAD_REQUEST", message });
  }
  const meta = parseRunMeta(await deps.redis.hgetall(deps.keys.runMeta(runId)));
  const refusal = replayRefusal(runId, run.status) ?? null;
  if (!meta) return { total: 0, discarded: 0, replayRefusal: refusal, letters: [], next: null };
  const group = page.group;
  const [total, discarded, letters] = await Promise.all([
    countDeadLetters(deps.redis, deps.keys, runId, meta),
    countDiscarded(deps, runId, meta),
    // One more than asked: whether a page follows, without counting what comes before the cursor.
    readDeadLetters(
      deps.redis,
      deps.keys,
      runId,
      meta,
      page.limit + 1,
      after,
      group ? (l) => matchesGroup(l, group) : undefined,
    ),
  ]);
  const more = letters.length > page.limit;
  const shown = more ? letters.slice(0, page.limit) : letters;
  return { total, discarded, replayRefusal: refusal, letters: shown, next: more ? shown[shown.length - 1]!.id : null };
}

interface DeadLetterGroup extends DeadLetterGroupRef {
  count: number;
  /** One of the group's errors as it was, for the reader to see a real value. */
  example: string;
  /** When the group's newest letter failed. */
  lastAt: number;
}

/** Every dead letter of the run grouped by node and reason, largest group first. */
export async function listDeadLetterGroups(
  deps: Deps,
  workspaceId: string,
  runId: string,
): Promise<{ total: number; groups: DeadLetterGroup[] }> {
  await ownRun(deps.db, workspaceId, runId);
  const meta = parseRunMeta(await deps.redis.hgetall(deps.keys.runMeta(runId)));
  if (!meta) return { total: 0, groups: [] };
  const groups = new Map<string, DeadLetterGroup>();
  let total = 0;
  await scanDeadLetters(deps.redis, deps.keys, runId, meta, (letter) => {
    total++;
    const reason = deadLetterReason(letter.error);
    const key = `${letter.nodeId}\u0000${reason}`;
    const group = groups.get(key);
    if (group) {
      group.count++;
      group.lastAt = Math.max(group.lastAt, letter.at);
    } else {
      groups.set(key, { nodeId: letter.nodeId, reason, count: 1, example: letter.error, lastAt: letter.at });
    }
  });
  const sorted = [...groups.values()].sort(
    (a, b) => b.count - a.count || a.nodeId.localeCompare(b.nodeId) || a.reason.localeCompare(b.reason),
  );
  return { total, groups: sorted };
}
