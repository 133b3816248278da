import type { Db } from "@sluice/db/client";
import { type Logger, processLogger } from "@sluice/log/logger";
import {
  acceptIngestRecords,
  answer,
  bearerToken,
  DEFAULT_INGEST_LIMITS,
  type IngestDeps,
} from "@sluice/nodes/connectors/http/ingest-endpoint";
import { ingestKeys, META, PIPELINE_ID } from "@sluice/nodes/connectors/http/ingest-stream";
import { TRPCError } from "@trpc/server";
import { clientAddress, RateLimitedError, type RateLimits } from "../limits/rate-limits";
import { authenticateBearer, missingScope, type TokenCaller } from "../tokens/token-auth";
import type { TokenView } from "../tokens/token-router.types";
import { createToken, listTokens, revokeToken } from "../tokens/token-service";

export {
  DEFAULT_INGEST_LIMITS,
  type IngestDeps,
  type IngestLimits,
} from "@sluice/nodes/connectors/http/ingest-endpoint";

// Webhook ingest in the app. The route: `POST /api/ingest/<pipelineId>` with an API token that has the `ingest` scope
// — the pipeline's own ingest tokens (managed on its page, below), or a personal or workspace token of its workspace
// acting as an editor or above. What the endpoint does with the records is the webhook connector's writing side,
// packages/nodes/src/connectors/http/ingest-endpoint.ts.

// --- The endpoint, rate-limited ------------------------------------------------------------------------------------

export interface IngestRouteDeps extends IngestDeps {
  db: Db;
  rateLimits?: RateLimits;
  /** See ApiDeps.trustedProxies: where the token was last used from. */
  trustedProxies?: number;
  logger?: Logger;
}

const refused = (reason: string) =>
  answer(401, { error: reason }, { "www-authenticate": 'Bearer realm="sluice-ingest"' });

/** Why `token` may not post to `pipelineId`, as the answer that says so; null when it may. */
async function ingestRefusal(db: Db, token: TokenCaller, pipelineId: string): Promise<Response | null> {
  const missing = missingScope(token, "ingest");
  if (missing) return answer(403, { error: missing });
  if (token.kind === "ingest") {
    // Its pipeline's token: the row goes with the pipeline, so the pipeline exists.
    return token.pipelineId === pipelineId
      ? null
      : answer(403, { error: "this ingest token belongs to another pipeline's ingest URL" });
  }
  if (token.role === null || token.role === "VIEWER") {
    return answer(403, {
      error: `posting records needs the editor role; this token acts as ${token.role?.toLowerCase() ?? "no member"}`,
    });
  }
  const pipeline = await db.pipeline.findFirst({
    where: { id: pipelineId, workspaceId: token.workspaceId },
    select: { id: true },
  });
  return pipeline ? null : answer(404, { error: "no such pipeline in this token's workspace" });
}

/**
 * The web app's ingest route: one point of the per-token rate limit (keyed by pipeline and token, so a sender without
 * the token cannot use up a real sender's allowance), taken before anything else; then the token; then the records.
 * Never throws.
 */
export async function handleLimitedIngestRequest(
  deps: IngestRouteDeps,
  pipelineId: string,
  req: Request,
): Promise<Response> {
  const secret = bearerToken(req);
  if (!secret)
    return refused("an API token with the ingest scope is required: send it as Authorization: Bearer <token>");
  const { retryAfterSeconds } = { ...DEFAULT_INGEST_LIMITS, ...deps.limits };
  const unavailable = (what: string) =>
    answer(503, { error: `${what}; retry later` }, { "retry-after": String(retryAfterSeconds) });
  if (deps.rateLimits) {
    try {
      await deps.rateLimits.consume("ingestPerToken", `${pipelineId}:${secret}`);
    } catch (err) {
      if (err instanceof RateLimitedError) {
        return answer(429, { error: err.message }, { "retry-after": String(err.retryAfterSeconds) });
      }
      return unavailable("the request could not be counted against the rate limit (Redis cannot be reached)");
    }
  }
  if (!PIPELINE_ID.test(pipelineId)) return answer(404, { error: "no such pipeline" });
  try {
    const outcome = await authenticateBearer(deps.db, secret, {
      clientAddress: clientAddress(req.headers, deps.trustedProxies ?? 0),
    });
    if (!outcome.ok) return refused(outcome.reason);
    const refusal = await ingestRefusal(deps.db, outcome.token, pipelineId);
    if (refusal) return refusal;
  } catch (err) {
    (deps.logger ?? processLogger()).error("ingest: checking the token failed", { pipelineId, err });
    return unavailable("the token could not be checked right now (the database cannot be reached)");
  }
  return acceptIngestRecords(deps, pipelineId, req);
}

// --- The pipeline's ingest tokens, for the tRPC router ---------------------------------------------------------------

export interface IngestAdminDeps extends IngestDeps {
  db: Db;
}

async function ownPipeline(db: Db, workspaceId: string, pipelineId: string): Promise<void> {
  const found = await db.pipeline.findFirst({ where: { id: pipelineId, workspaceId }, select: { id: true } });
  if (!found) throw new TRPCError({ code: "NOT_FOUND", message: "no such pipeline in this workspace" });
}

export interface IngestStatus {
  path: string;
  /** An ingest token of the pipeline works now. */
  enabled: boolean;
  /** The pipeline's ingest tokens, newest first, revoked and expired ones included. */
  tokens: TokenView[];
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
  const [tokens, pending] = await Promise.all([
    listTokens(deps.db, { workspaceId, kind: "INGEST", pipelineId }),
    deps.redis.hget(ingestKeys(deps.keys.prefix, pipelineId).meta, META.pending),
  ]);
  return {
    path: `/api/ingest/${pipelineId}`,
    enabled: tokens.some((t) => t.state === "active"),
    tokens,
    pending: Number(pending ?? 0),
    maxBacklog: limits.maxBacklog,
    maxBodyBytes: limits.maxBodyBytes,
  };
}

/** A new ingest token for the pipeline's URL, its secret shown this once. Tokens made before keep working. */
export async function createIngestToken(
  deps: IngestAdminDeps,
  who: { workspaceId: string; userId: string },
  pipelineId: string,
  input: { name: string; expiresInDays: number },
): Promise<{ secret: string; path: string; token: TokenView }> {
  await ownPipeline(deps.db, who.workspaceId, pipelineId);
  const created = await createToken(deps.db, {
    ...input,
    workspaceId: who.workspaceId,
    kind: "INGEST",
    createdById: who.userId,
    scopes: ["ingest"],
    pipelineId,
  });
  return { ...created, path: `/api/ingest/${pipelineId}` };
}

/** The token no longer works, from the next request on; records already accepted stay for the pipeline to read. */
export async function revokeIngestToken(
  deps: IngestAdminDeps,
  workspaceId: string,
  pipelineId: string,
  id: string,
): Promise<TokenView> {
  await ownPipeline(deps.db, workspaceId, pipelineId);
  return revokeToken(deps.db, { workspaceId, kind: "INGEST", pipelineId }, id);
}

/** Everything of a pipeline's ingest in Redis, for when the pipeline is deleted (its tokens go with its row). */
export async function deleteIngest(deps: IngestDeps, pipelineId: string): Promise<void> {
  const keys = ingestKeys(deps.keys.prefix, pipelineId);
  await deps.redis.del(keys.meta, ...keys.streams());
}
