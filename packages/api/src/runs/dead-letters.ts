import type { Db } from "@sluice/db/client";
import type { Keys } from "@sluice/pipeline/control/keys";
import { parseRunMeta } from "@sluice/pipeline/control/protocol";
import {
  countDeadLetters,
  type DeadLetterView,
  parseDeadLetterId,
  readDeadLetters,
} from "@sluice/pipeline/control/run-reader";
import { TRPCError } from "@trpc/server";
import type { Redis } from "ioredis";

// A run's dead letters a page at a time: how many it holds in all, and pages newest first that follow one another
// by cursor (the id of the last letter of the page before). Letters that arrive while someone pages are newer than
// any cursor, so they show on the first page and never shift the later ones.

interface DeadLetterPage {
  /** Every dead letter the run holds now, over all its partitions. */
  total: number;
  letters: DeadLetterView[];
  /** The cursor of the page after this one; null on the last page. */
  next: string | null;
}

export async function listDeadLetterPage(
  deps: { db: Db; redis: Redis; keys: Keys },
  workspaceId: string,
  runId: string,
  page: { limit: number; after?: string | undefined },
): Promise<DeadLetterPage> {
  const run = await deps.db.run.findFirst({ where: { id: runId, workspaceId }, select: { id: true } });
  if (!run) throw new TRPCError({ code: "NOT_FOUND", message: "no such run in this workspace" });
  const after = page.after === undefined ? undefined : parseDeadLetterId(page.after);
  if (page.after !== undefined && !after) {
    const message = `after: "${page.after}" is not a dead letter id as listed, e.g. 0.2.1700000000000-0`;
    throw new TRPCError({ code: "BAD_REQUEST", message });
  }
  const meta = parseRunMeta(await deps.redis.hgetall(deps.keys.runMeta(runId)));
  if (!meta) return { total: 0, letters: [], next: null };
  const [total, letters] = await Promise.all([
    countDeadLetters(deps.redis, deps.keys, runId, meta),
    // One more than asked: whether a page follows, without counting what comes before the cursor.
    readDeadLetters(deps.redis, deps.keys, runId, meta, page.limit + 1, after),
  ]);
  const more = letters.length > page.limit;
  const shown = more ? letters.slice(0, page.limit) : letters;
  return { total, letters: shown, next: more ? shown[shown.length - 1]!.id : null };
}
