import type { ApiDeps } from "@sluice/api/context";
import { checkHealth } from "@sluice/api/health/health-service";
import { handleLimitedIngestRequest } from "@sluice/api/ingest/ingest-service";
import { withApiHeaders } from "./security-headers";

// The plain HTTP routes besides tRPC, as functions of the process's dependencies (the route files bind them to
// getDeps), so tests can serve them with their own. HSTS is set when the deps' secureCookies is (SLUICE_COOKIE_SECURE:
// the app is served over HTTPS).

/** POST /api/ingest/<pipelineId>: rate-limited per token, body read with its limit as it streams in. */
export function createIngestHandler(getDeps: () => ApiDeps) {
  return async (req: Request, pipelineId: string): Promise<Response> => {
    const deps = getDeps();
    return withApiHeaders(await handleLimitedIngestRequest(deps, pipelineId, req), { secure: deps.secureCookies });
  };
}

/** GET /api/health: 200 when Postgres, Redis and at least one worker answer; 503 otherwise, with what is wrong. */
export function createHealthHandler(getDeps: () => ApiDeps) {
  return async (): Promise<Response> => {
    const deps = getDeps();
    const health = await checkHealth(deps);
    const response = Response.json(health, {
      status: health.status === "ok" ? 200 : 503,
      headers: { "cache-control": "no-store" },
    });
    return withApiHeaders(response, { secure: deps.secureCookies });
  };
}
