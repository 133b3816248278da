import { createHash, timingSafeEqual } from "node:crypto";
import type { ApiDeps } from "@sluice/api/context";
import { createMetricsRegistry } from "@sluice/api/fleet/fleet-metrics";
import { fleetQueuesFor } from "@sluice/api/fleet/fleet-service";
import { clientAddress, RateLimitedError } from "@sluice/api/limits/rate-limits";
import { authenticateBearer, missingScope } from "@sluice/api/tokens/token-auth";
import { SECRET_PREFIX } from "@sluice/api/tokens/token-secret";
import { bearerToken } from "@sluice/nodes/connectors/http/ingest-endpoint";
import { withApiHeaders } from "./security-headers";

// GET /api/metrics as a function of the process's dependencies and its token (route.ts binds them), so tests serve
// it with their own. Two kinds of bearer: SLUICE_METRICS_TOKEN sees the whole installation (off, 404, while unset);
// an API token with the `read` scope sees the fleet and its own workspace's runs, limited like its other calls.

/** Equal tokens, compared in time that does not depend on where they differ (or on their lengths: both hashed). */
function sameToken(given: string, expected: string): boolean {
  const digest = (s: string) => createHash("sha256").update(s, "utf8").digest();
  return timingSafeEqual(digest(given), digest(expected));
}

function text(status: number, body: string, headers: Record<string, string> = {}): Response {
  return new Response(`${body}\n`, {
    status,
    headers: { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store", ...headers },
  });
}

export function createMetricsHandler(getDeps: () => ApiDeps, getToken: () => string | undefined) {
  // One registry per workspace scraped with an API token, and one ("") for the installation.
  const registries = new WeakMap<ApiDeps, Map<string, ReturnType<typeof createMetricsRegistry>>>();
  const registryFor = (deps: ApiDeps, workspaceId: string | undefined) => {
    let ofDeps = registries.get(deps);
    if (!ofDeps) {
      ofDeps = new Map();
      registries.set(deps, ofDeps);
    }
    let registry = ofDeps.get(workspaceId ?? "");
    if (!registry) {
      registry = createMetricsRegistry({
        db: deps.db,
        redis: deps.redis,
        keys: deps.keys,
        queues: fleetQueuesFor(deps),
        ...(workspaceId ? { workspaceId } : {}),
      });
      ofDeps.set(workspaceId ?? "", registry);
    }
    return registry;
  };
  const scrape = async (deps: ApiDeps, workspaceId: string | undefined) => {
    const registry = registryFor(deps, workspaceId);
    return new Response(await registry.metrics(), {
      status: 200,
      headers: { "content-type": registry.contentType, "cache-control": "no-store" },
    });
  };

  /** A scrape with an API token: refused as the token's other calls would be, else its workspace's figures. */
  const withApiToken = async (deps: ApiDeps, req: Request, secret: string): Promise<Response> => {
    const outcome = await authenticateBearer(deps.db, secret, {
      clientAddress: clientAddress(req.headers, deps.trustedProxies ?? 0),
    });
    if (!outcome.ok) return text(401, `${outcome.reason}.`, { "www-authenticate": 'Bearer realm="sluice-metrics"' });
    const missing = missingScope(outcome.token, "read");
    if (missing) return text(403, `${missing}.`);
    if (deps.rateLimits) {
      try {
        await deps.rateLimits.consume("apiPerToken", outcome.token.id);
      } catch (err) {
        if (err instanceof RateLimitedError) {
          return text(429, `${err.message}.`, { "retry-after": String(err.retryAfterSeconds) });
        }
        return text(503, "The scrape could not be counted against the rate limit (Redis cannot be reached); retry.");
      }
    }
    return scrape(deps, outcome.token.workspaceId);
  };

  return async (req: Request): Promise<Response> => {
    const deps = getDeps();
    const expected = getToken();
    const given = bearerToken(req);
    let response: Response;
    if (given !== undefined && expected !== undefined && sameToken(given, expected)) {
      response = await scrape(deps, undefined);
    } else if (given?.startsWith(SECRET_PREFIX)) {
      response = await withApiToken(deps, req, given);
    } else if (expected === undefined) {
      response = text(
        404,
        "The metrics endpoint is off: set SLUICE_METRICS_TOKEN on the web server (32 characters or more), then scrape /api/metrics with the header Authorization: Bearer <that token>. An API token with the read scope (Authorization: Bearer slu_…) scrapes its own workspace's figures.",
      );
    } else {
      response = text(
        401,
        "The metrics endpoint needs the token set in SLUICE_METRICS_TOKEN, or an API token with the read scope, sent as Authorization: Bearer <token>.",
        { "www-authenticate": 'Bearer realm="sluice-metrics"' },
      );
    }
    return withApiHeaders(response, { secure: deps.secureCookies });
  };
}
