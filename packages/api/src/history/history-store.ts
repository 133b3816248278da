import type { Db } from "@sluice/db/client";
import { Prisma } from "@sluice/db/generated/prisma/client";
import { decodeBucket, encodeBucket } from "./bucket-codec";
import { addBucket, type FigureBucket } from "./figure-buckets";
import type { HistoryRetention, Resolution } from "./history-retention";

// Reads and writes of RunFigureBucket: one row per run, resolution and bucket, holding every node's and edge's
// figures (bucket-codec.ts). Writes are upserts of whole buckets, so writing a bucket again with the same figures
// changes nothing: that is what makes the roll-up safe to repeat after a crash.

export async function upsertBuckets(
  db: Db,
  runId: string,
  resolution: Resolution,
  buckets: readonly FigureBucket[],
): Promise<void> {
  const rows = buckets
    .filter((b) => b.nodes.size > 0 || b.edges.size > 0)
    .map((b) => ({ s: b.start, f: encodeBucket(b).toString("base64") }));
  if (rows.length === 0) return;
  // One JSON parameter for all the rows, whatever their number.
  await db.$executeRaw`
    INSERT INTO "RunFigureBucket" ("runId", "resolution", "bucketStart", "figures")
    SELECT ${runId}, ${resolution}::smallint, to_timestamp(x.s), decode(x.f, 'base64')
    FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) AS x(s bigint, f text)
    ON CONFLICT ("runId", "resolution", "bucketStart") DO UPDATE SET "figures" = EXCLUDED."figures"`;
}

/**
 * The buckets of the given runs (or of every run of a pipeline) at one resolution that start in [fromSec, toSec),
 * in time order; buckets of different runs with the same start are folded into one (counts add up, gauges take
 * the largest).
 */
export async function readBuckets(
  db: Db,
  runs: readonly string[] | { pipelineId: string },
  resolution: Resolution,
  fromSec: number,
  toSec: number,
): Promise<FigureBucket[]> {
  if (Array.isArray(runs) && runs.length === 0) return [];
  const ofRuns =
    "pipelineId" in runs
      ? Prisma.sql`"runId" IN (SELECT "id" FROM "Run" WHERE "pipelineId" = ${runs.pipelineId})`
      : Prisma.sql`"runId" = ANY(${[...(runs as readonly string[])]}::text[])`;
  const rows = await db.$queryRaw<{ s: number; figures: Uint8Array }[]>`
    SELECT extract(epoch FROM "bucketStart")::float8 AS s, "figures"
    FROM "RunFigureBucket"
    WHERE ${ofRuns} AND "resolution" = ${resolution}::smallint
      AND "bucketStart" >= ${new Date(fromSec * 1000)} AND "bucketStart" < ${new Date(toSec * 1000)}
    ORDER BY "bucketStart"`;
  const buckets = new Map<number, FigureBucket>();
  for (const row of rows) {
    const bucket = decodeBucket(row.s, row.figures);
    const same = buckets.get(row.s);
    if (!same) buckets.set(row.s, bucket);
    else addBucket(same, bucket);
  }
  return [...buckets.values()];
}

/** Deletes buckets older than their resolution's retention; returns how many went. */
export async function deleteExpiredBuckets(db: Db, retention: HistoryRetention, nowMs: number): Promise<number> {
  let deleted = 0;
  for (const [resolution, ms] of Object.entries(retention)) {
    // Through the cursor table, so each run's rows are reached by the primary key rather than a scan of all rows.
    deleted += await db.$executeRaw`
      DELETE FROM "RunFigureBucket" f USING "RunHistoryCursor" c
      WHERE f."runId" = c."runId" AND f."resolution" = ${Number(resolution)}::smallint
        AND f."bucketStart" < ${new Date(nowMs - ms)}`;
  }
  return deleted;
}

/**
 * The buckets of each of `runIds` at one resolution that start in [fromSec, toSec), in time order per run, each run's
 * kept apart (readBuckets folds runs together): one query for any number of runs.
 */
export async function readBucketsByRun(
  db: Db,
  runIds: readonly string[],
  resolution: Resolution,
  fromSec: number,
  toSec: number,
): Promise<Map<string, FigureBucket[]>> {
  const byRun = new Map<string, FigureBucket[]>();
  if (runIds.length === 0) return byRun;
  const rows = await db.$queryRaw<{ runId: string; s: number; figures: Uint8Array }[]>`
    SELECT "runId", extract(epoch FROM "bucketStart")::float8 AS s, "figures"
    FROM "RunFigureBucket"
    WHERE "runId" = ANY(${[...runIds]}::text[]) AND "resolution" = ${resolution}::smallint
      AND "bucketStart" >= ${new Date(fromSec * 1000)} AND "bucketStart" < ${new Date(toSec * 1000)}
    ORDER BY "runId", "bucketStart"`;
  for (const row of rows) {
    const list = byRun.get(row.runId) ?? [];
    byRun.set(row.runId, list);
    list.push(decodeBucket(row.s, row.figures));
  }
  return byRun;
}
