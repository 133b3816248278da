import type { Db } from "@sluice/db/client";
import type { Logger } from "@sluice/log/logger";
import type { ConnectionRuntimeRegistry } from "@sluice/nodes/connection-runtime";
import { bearerToken } from "@sluice/nodes/connectors/http/ingest-endpoint";
import type { DestinationPolicy } from "@sluice/nodes/destination-policy";
import type { ConnectionCatalog } from "@sluice/pipeline/connection-definition";
import type { Keys } from "@sluice/pipeline/control/keys";
import type { SecretKeys } from "@sluice/pipeline/control/secret-box";
import type { NodeCatalog } from "@sluice/pipeline/node-definition";
import type { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { findSession, readCookie, SESSION_COOKIE, type SessionUser } from "./auth/session";
import type { HistoryRetention } from "./history/history-retention";
import type { IngestLimits } from "./ingest/ingest-service";
import { clientAddress, type RateLimits } from "./limits/rate-limits";
import { authenticateBearer, type BearerOutcome } from "./tokens/token-auth";

/** What the API needs from the process that hosts it; built once by the web app, passed to every request. */
export interface ApiDeps {
  db: Db;
  redis: Redis;
  keys: Keys;
  /** BullMQ queue for run control jobs (start). */
  controlQueue: Queue;
  /** BullMQ queue for the editor's data previews, answered by a worker. */
  previewQueue: Queue;
  /** Set the Secure flag on cookies (true behind HTTPS). */
  secureCookies: boolean;
  /**
   * SLUICE_SECRET_KEY: seals connection secrets at rest and the connections a run takes to the workers; with
   * SLUICE_SECRET_KEY_PREVIOUS, the keys what was sealed before may have been sealed with. Without it, connections
   * with secrets cannot be stored and pipelines that use connections cannot run.
   */
  secretKey: SecretKeys | undefined;
  /** The node types pipelines are validated against. */
  catalog: NodeCatalog;
  /** The connection types this installation knows, and their runtimes (test, discovery). */
  connectionTypes: ConnectionCatalog;
  connectionRuntimes: ConnectionRuntimeRegistry;
  /**
   * Where connections may go (SLUICE_CONNECTIONS_ALLOW, and never Sluice's own database or Redis): Test and discovery
   * check every host with it, and runs and previews carry its own endpoints to the workers.
   */
  destinations: DestinationPolicy;
  /** Webhook ingest limits (SLUICE_INGEST_MAX_BODY, SLUICE_INGEST_MAX_BACKLOG); the defaults where absent. */
  limits?: Partial<IngestLimits>;
  /**
   * Rate limits on sign-in, sign-up and ingest, counted in Redis. The web app always sets them; in-process callers
   * without them (scripts, tests of other areas) are not limited.
   */
  rateLimits?: RateLimits;
  /** How long a finished run's Redis state is kept (SLUICE_RUN_RETENTION); 7 days where absent. */
  runRetentionMs?: number;
  /** How long node-figure history is kept per resolution (SLUICE_HISTORY_RETENTION); the default where absent. */
  historyRetention?: HistoryRetention;
  /**
   * The files directory (SLUICE_FILES_DIR) the workers' File sinks write in, which the query page reads (each
   * workspace its own folder in it); `.sluice/files` in the working directory where absent, as for the workers.
   */
  filesDir?: string;
  /** Reverse proxies in front of the web app that append to X-Forwarded-For (SLUICE_TRUSTED_PROXIES). */
  trustedProxies?: number;
  /** Where failures on our side are logged, under the ref their caller is shown; the process's logger when absent. */
  logger?: Logger;
}

export interface RequestContext extends ApiDeps {
  /** The signed-in user; for a request with an API token, the token's stand-in (see BearerOutcome). */
  session: SessionUser | null;
  /**
   * Set when the request carries `Authorization: Bearer …` (its cookie is then ignored): the API token it acts with,
   * or why the token was refused. The ladder (trpc.ts) checks it against each procedure's token rule.
   */
  bearer: BearerOutcome | null;
  /** The workspace the request addresses (header `x-sluice-workspace`, or a subscription's `workspace`), if any. */
  requestedWorkspaceId: string | null;
  userAgent: string | null;
  /** The client's address, as far as X-Forwarded-For can be trusted (see clientAddress); null in-process. */
  clientAddress: string | null;
  /** Response headers, for Set-Cookie. */
  resHeaders: Headers;
}

export const WORKSPACE_HEADER = "x-sluice-workspace";

/**
 * `connectionParams` are what a tRPC subscription sends in its URL (an EventSource cannot send headers): the web app
 * names the workspace there as `workspace`.
 */
export async function createRequestContext(
  deps: ApiDeps,
  req: Request,
  resHeaders: Headers,
  connectionParams?: Partial<Record<string, string>> | null,
): Promise<RequestContext> {
  const address = clientAddress(req.headers, deps.trustedProxies ?? 0);
  const secret = bearerToken(req);
  const bearer = secret === undefined ? null : await authenticateBearer(deps.db, secret, { clientAddress: address });
  const token = bearer ? undefined : readCookie(req.headers.get("cookie"), SESSION_COOKIE);
  return {
    ...deps,
    session: bearer ? (bearer.ok ? bearer.session : null) : token ? await findSession(deps.db, token) : null,
    bearer,
    requestedWorkspaceId: req.headers.get(WORKSPACE_HEADER) ?? connectionParams?.workspace ?? null,
    userAgent: req.headers.get("user-agent"),
    clientAddress: address,
    resHeaders,
  };
}
