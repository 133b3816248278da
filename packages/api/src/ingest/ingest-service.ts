import type { Db } from "@sluice/db/client";
import {
  answer,
  bearerToken,
  DEFAULT_INGEST_LIMITS,
  handleIngestRequest,
  type IngestDeps,
  installIngestToken,
  newIngestToken,
} from "@sluice/nodes/connectors/http/ingest-endpoint";
import { ingestKeys, META } from "@sluice/nodes/connectors/http/ingest-stream";
import { TRPCError } from "@trpc/server";
import { RateLimitedError, type RateLimits } from "../limits/rate-limits";

export {
  DEFAULT_INGEST_LIMITS,
  handleIngestRequest,
  type IngestDeps,
  type IngestLimits,
  TOKEN_PREFIX,
  tokenHash,
} from "@sluice/nodes/connectors/http/ingest-endpoint";

// Webhook ingest in the app: the token's life (created or rotated, shown once and stored as a SHA-256; revoked) for
// a pipeline of the workspace. The endpoint itself (`handleIngestRequest`, re-exported here for the web app's route)
// is the webhook connector's writing side, packages/nodes/src/connectors/http/ingest-endpoint.ts.

// --- The endpoint, rate-limited ------------------------------------------------------------------------------------

/**
 * The web app's ingest route: one point of the per-token rate limit (keyed by pipeline and token, so a sender without
 * the token cannot use up a real sender's allowance), taken before the body is read; then the endpoint itself.
 */
export async function handleLimitedIngestRequest(
  deps: IngestDeps & { rateLimits?: RateLimits },
  pipelineId: string,
  req: Request,
): Promise<Response> {
  const token = bearerToken(req);
  if (deps.rateLimits && token) {
    try {
      await deps.rateLimits.consume("ingestPerToken", `${pipelineId}:${token}`);
    } catch (err) {
      if (err instanceof RateLimitedError) {
        return answer(429, { error: err.message }, { "retry-after": String(err.retryAfterSeconds) });
      }
      const { retryAfterSeconds } = { ...DEFAULT_INGEST_LIMITS, ...deps.limits };
      return answer(
        503,
        { error: "the request could not be counted against the rate limit (Redis cannot be reached); retry later" },
        { "retry-after": String(retryAfterSeconds) },
      );
    }
  }
  return handleIngestRequest(deps, pipelineId, req);
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
  const token = newIngestToken();
  const now = Date.now();
  await installIngestToken(deps, pipelineId, token, graceSeconds, now);
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
