import type { Db } from "@sluice/db/client";
import { ingestKeys, META, PIPELINE_ID } from "@sluice/nodes/connectors/http/ingest-stream";
import type { Keys } from "@sluice/pipeline/control/keys";
import { Cluster, type Redis } from "ioredis";

// Webhook ingest tokens from before API tokens lived in Redis only, in each pipeline's ingest hash, as the SHA-256 of
// the token (and of the one it replaced, with when that stops). They use the same digest as API tokens, so they move
// over as they are: senders keep their token. Run by the web app as it starts; a marker key makes later starts skip
// the scan, and a row already imported (same digest) is not imported twice, so two processes starting together are
// harmless.

/** How long an imported token lives: it had no expiry, and every API token has one. */
const IMPORTED_DAYS = 365;
const DAY_MS = 86_400_000;

export interface LegacyImportDeps {
  db: Db;
  redis: Redis;
  keys: Keys;
}

function markerKey(keys: Keys): string {
  return `${keys.prefix}:migrated:ingest-tokens`;
}

/** The pipeline ids that have an ingest hash, on every node (each master of a cluster). */
async function* ingestPipelines(redis: Redis, prefix: string): AsyncGenerator<string> {
  const nodes: Redis[] = redis instanceof Cluster ? (redis as Cluster).nodes("master") : [redis];
  const pattern = ingestKeys(prefix, "*").meta;
  const id = /\{ingest:([^}]+)\}:meta$/;
  for (const node of nodes) {
    let cursor = "0";
    do {
      const [next, found] = await node.scan(cursor, "MATCH", pattern, "COUNT", 1000);
      cursor = next;
      for (const key of found) {
        const pipelineId = id.exec(key)?.[1];
        if (pipelineId && PIPELINE_ID.test(pipelineId)) yield pipelineId;
      }
    } while (cursor !== "0");
  }
}

/** Imports every pipeline's ingest token still kept in Redis; returns how many tokens were imported. */
export async function importLegacyIngestTokens(deps: LegacyImportDeps, now = Date.now()): Promise<number> {
  if (await deps.redis.exists(markerKey(deps.keys))) return 0;
  let imported = 0;
  for await (const pipelineId of ingestPipelines(deps.redis, deps.keys.prefix)) {
    const key = ingestKeys(deps.keys.prefix, pipelineId).meta;
    const [current, createdAt, previous, previousUntil] = await deps.redis.hmget(
      key,
      META.token,
      META.tokenCreatedAt,
      META.previous,
      META.previousUntil,
    );
    if (!current) continue;
    // Pipelines run from a file by `sluice run` have no row: their tokens stay where that command looks for them.
    const pipeline = await deps.db.pipeline.findUnique({
      where: { id: pipelineId },
      select: { workspaceId: true, createdById: true },
    });
    if (!pipeline) continue;
    const base = {
      workspaceId: pipeline.workspaceId,
      kind: "INGEST" as const,
      scopes: ["INGEST" as const],
      pipelineId,
      createdById: pipeline.createdById,
      prefix: "sluice_ing_",
    };
    const rows = [
      {
        ...base,
        name: "Webhook (from before API tokens)",
        secretHash: current,
        createdAt: new Date(Number(createdAt) || now),
        expiresAt: new Date(now + IMPORTED_DAYS * DAY_MS),
      },
    ];
    const until = Number(previousUntil ?? 0);
    if (previous && until > now) {
      rows.push({
        ...base,
        name: "Webhook, replaced",
        secretHash: previous,
        createdAt: new Date(now),
        expiresAt: new Date(until),
      });
    }
    const { count } = await deps.db.apiToken.createMany({ data: rows, skipDuplicates: true });
    imported += count;
    await deps.redis.hdel(key, META.token, META.tokenCreatedAt, META.previous, META.previousUntil);
  }
  await deps.redis.set(markerKey(deps.keys), String(now));
  return imported;
}
