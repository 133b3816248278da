import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { Db } from "@sluice/db/client";
import {
  ENTRY,
  INGEST_ENTRY_RECORDS,
  INGEST_SHARDS,
  ingestKeys,
  META,
  PIPELINE_ID,
} from "@sluice/nodes/connectors/http/ingest-stream";
import type { Keys } from "@sluice/pipeline/control/keys";
import { TRPCError } from "@trpc/server";
import type { Cluster, Redis } from "ioredis";
import { bodyFormat, bodyRecords, IngestBodyError, readLimited } from "./ingest-body";

// Webhook ingest: `POST /api/ingest/<pipelineId>` with the pipeline's token appends the body's records to the
// pipeline's ingest streams (see ingest-stream.ts) and answers 202 only once Redis has them; the pipeline's Webhook
// source reads them. Plus the token's life: created or rotated (shown once, stored as a SHA-256), revoked.

export interface IngestLimits {
  /** Largest body accepted, in bytes (SLUICE_INGEST_MAX_BODY). */
  maxBodyBytes: number;
  /** Records waiting to be read above which requests are refused with 503 (SLUICE_INGEST_MAX_BACKLOG). */
  maxBacklog: number;
  /** Retry-After, in seconds, of a 503. */
  retryAfterSeconds: number;
}

export const DEFAULT_INGEST_LIMITS: IngestLimits = {
  maxBodyBytes: 8 * 1024 * 1024,
  maxBacklog: 1_000_000,
  retryAfterSeconds: 5,
};

export interface IngestDeps {
  redis: Redis | Cluster;
  keys: Pick<Keys, "prefix">;
  limits?: Partial<IngestLimits>;
}

export const TOKEN_PREFIX = "sluice_ing_";

export function tokenHash(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

function sameHash(a: string, b: string | null | undefined): boolean {
  if (!b || a.length !== b.length) return false;
  return timingSafeEqual(Buffer.from(a, "hex"), Buffer.from(b, "hex"));
}

// KEYS[1] meta, KEYS[2] the shard; ARGV: token hash, now, max backlog, total records, received at, then n, records
// for each entry. Returns {0, pending} accepted, {-1} bad token, {-2, pending} backlog full, {-3} more than the limit.
const APPEND = `
local h = redis.call('HMGET', KEYS[1], '${META.token}', '${META.previous}', '${META.previousUntil}', '${META.pending}')
local ok = h[1] == ARGV[1] or (h[2] == ARGV[1] and tonumber(h[3] or '0') > tonumber(ARGV[2]))
if not ok then return {-1} end
local pending = tonumber(h[4] or '0')
local total = tonumber(ARGV[4])
local limit = tonumber(ARGV[3])
if total > limit then return {-3} end
if pending + total > limit then return {-2, pending} end
for i = 6, #ARGV, 2 do
  redis.call('XADD', KEYS[2], '*', '${ENTRY.count}', ARGV[i], '${ENTRY.records}', ARGV[i + 1], '${ENTRY.receivedAt}', ARGV[5])
end
return {0, redis.call('HINCRBY', KEYS[1], '${META.pending}', total)}`;

let nextShard = Math.floor(Math.random() * INGEST_SHARDS);

function answer(status: number, body: Record<string, unknown>, headers: Record<string, string> = {}): Response {
  return Response.json(body, { status, headers: { "cache-control": "no-store", ...headers } });
}

const UNAUTHORIZED = () =>
  answer(
    401,
    { error: "a valid ingest token is required: send it as Authorization: Bearer <token>" },
    { "www-authenticate": 'Bearer realm="sluice-ingest"' },
  );

/** The whole request: token, limits, body, append. Never throws; every outcome is an HTTP answer. */
export async function handleIngestRequest(deps: IngestDeps, pipelineId: string, req: Request): Promise<Response> {
  const limits = { ...DEFAULT_INGEST_LIMITS, ...deps.limits };
  const busy = () =>
    answer(
      503,
      { error: "the pipeline has not yet read what it was sent before; retry later" },
      { "retry-after": String(limits.retryAfterSeconds) },
    );
  if (!PIPELINE_ID.test(pipelineId)) return answer(404, { error: "no such pipeline" });
  const auth = req.headers.get("authorization") ?? "";
  const match = /^Bearer\s+(\S+)\s*$/i.exec(auth);
  if (!match) return UNAUTHORIZED();
  const hash = tokenHash(match[1]!);
  const keys = ingestKeys(deps.keys.prefix, pipelineId);
  try {
    // Cheap checks before reading the body: the token, and whether there is room at all.
    const [current, previous, previousUntil, pending] = await deps.redis.hmget(
      keys.meta,
      META.token,
      META.previous,
      META.previousUntil,
      META.pending,
    );
    const valid = sameHash(hash, current) || (sameHash(hash, previous) && Number(previousUntil ?? 0) > Date.now());
    if (!valid) return UNAUTHORIZED();
    if (Number(pending ?? 0) >= limits.maxBacklog) return busy();

    const format = bodyFormat(req.headers.get("content-type"));
    const lines = bodyRecords(await readLimited(req, limits.maxBodyBytes), format);
    const args: (string | number)[] = [hash, Date.now(), limits.maxBacklog, lines.length, Date.now()];
    for (let i = 0; i < lines.length; i += INGEST_ENTRY_RECORDS) {
      const chunk = lines.slice(i, i + INGEST_ENTRY_RECORDS);
      args.push(chunk.length, chunk.join("\n"));
    }
    const shard = nextShard;
    nextShard = (nextShard + 1) % INGEST_SHARDS;
    const [code] = (await deps.redis.eval(APPEND, 2, keys.meta, keys.stream(shard), ...args)) as number[];
    if (code === -1) return UNAUTHORIZED();
    if (code === -2) return busy();
    if (code === -3) {
      return answer(413, {
        error: `the request holds ${lines.length} records, more than the ${limits.maxBacklog} the pipeline may have waiting; send smaller requests`,
      });
    }
    return answer(202, { accepted: lines.length });
  } catch (err) {
    if (err instanceof IngestBodyError) return answer(err.status, { error: err.message });
    // Redis unreachable or failing: nothing was stored (the append is one script).
    return answer(
      503,
      { error: `the records could not be stored: ${err instanceof Error ? err.message : String(err)}` },
      { "retry-after": String(limits.retryAfterSeconds) },
    );
  }
}

// --- The token's life, for the tRPC router -----------------------------------------------------------------------

export interface IngestAdminDeps extends IngestDeps {
  db: Db;
}

async function ownPipeline(db: Db, workspaceId: string, pipelineId: string): Promise<void> {
  const found = await db.pipeline.findFirst({ where: { id: pipelineId, workspaceId }, select: { id: true } });
  if (!found) throw new TRPCError({ code: "NOT_FOUND", message: "no such pipeline in this workspace" });
}

export interface IngestStatus {
  path: string;
  enabled: boolean;
  tokenCreatedAt: Date | null;
  previousValidUntil: Date | null;
  pending: number;
  maxBacklog: number;
  maxBodyBytes: number;
}

export async function ingestStatus(
  deps: IngestAdminDeps,
  workspaceId: string,
  pipelineId: string,
): Promise<IngestStatus> {
  await ownPipeline(deps.db, workspaceId, pipelineId);
  const limits = { ...DEFAULT_INGEST_LIMITS, ...deps.limits };
  const [token, createdAt, previousUntil, pending] = await deps.redis.hmget(
    ingestKeys(deps.keys.prefix, pipelineId).meta,
    META.token,
    META.tokenCreatedAt,
    META.previousUntil,
    META.pending,
  );
  const until = Number(previousUntil ?? 0);
  return {
    path: `/api/ingest/${pipelineId}`,
    enabled: Boolean(token),
    tokenCreatedAt: createdAt ? new Date(Number(createdAt)) : null,
    previousValidUntil: until > Date.now() ? new Date(until) : null,
    pending: Number(pending ?? 0),
    maxBacklog: limits.maxBacklog,
    maxBodyBytes: limits.maxBodyBytes,
  };
}

/**
 * A new token for the pipeline's ingest URL, shown this once. The one it replaces keeps working for `graceSeconds`
 * (so senders can switch over), then no more.
 */
export async function rotateIngestToken(
  deps: IngestAdminDeps,
  workspaceId: string,
  pipelineId: string,
  graceSeconds: number,
): Promise<{ token: string; path: string; createdAt: Date }> {
  await ownPipeline(deps.db, workspaceId, pipelineId);
  const token = `${TOKEN_PREFIX}${randomBytes(32).toString("base64url")}`;
  const key = ingestKeys(deps.keys.prefix, pipelineId).meta;
  const now = Date.now();
  const old = await deps.redis.hget(key, META.token);
  const fields: Record<string, string> = { [META.token]: tokenHash(token), [META.tokenCreatedAt]: String(now) };
  if (old && graceSeconds > 0) {
    fields[META.previous] = old;
    fields[META.previousUntil] = String(now + graceSeconds * 1000);
  }
  await deps.redis.hset(key, fields);
  if (!old || graceSeconds <= 0) await deps.redis.hdel(key, META.previous, META.previousUntil);
  return { token, path: `/api/ingest/${pipelineId}`, createdAt: new Date(now) };
}

/** No token works any more; records already accepted stay for the pipeline to read. */
export async function revokeIngestToken(deps: IngestAdminDeps, workspaceId: string, pipelineId: string): Promise<void> {
  await ownPipeline(deps.db, workspaceId, pipelineId);
  await deps.redis.hdel(
    ingestKeys(deps.keys.prefix, pipelineId).meta,
    META.token,
    META.tokenCreatedAt,
    META.previous,
    META.previousUntil,
  );
}

/** Everything of a pipeline's ingest, for when the pipeline is deleted: token, backlog and unread records. */
export async function deleteIngest(deps: IngestDeps, pipelineId: string): Promise<void> {
  const keys = ingestKeys(deps.keys.prefix, pipelineId);
  await deps.redis.del(keys.meta, ...keys.streams());
}
