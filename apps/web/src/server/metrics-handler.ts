import { createHash, timingSafeEqual } from "node:crypto";
import type { ApiDeps } from "@sluice/api/context";
import { createMetricsRegistry } from "@sluice/api/fleet/fleet-metrics";
import { fleetQueuesFor } from "@sluice/api/fleet/fleet-service";
import { bearerToken } from "@sluice/nodes/connectors/http/ingest-endpoint";
import { withApiHeaders } from "./security-headers";

// GET /api/metrics as a function of the process's dependencies and its token (route.ts binds them), so tests serve
// it with their own. Off (404) without SLUICE_METRICS_TOKEN; otherwise only for `Authorization: Bearer <token>`.

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
  const registries = new WeakMap<ApiDeps, ReturnType<typeof createMetricsRegistry>>();
  const registryFor = (deps: ApiDeps) => {
    let registry = registries.get(deps);
    if (!registry) {
      registry = createMetricsRegistry({
        db: deps.db,
        redis: deps.redis,
        keys: deps.keys,
        queues: fleetQueuesFor(deps),
      });
      registries.set(deps, registry);
    }
    return registry;
  };

  return async (req: Request): Promise<Response> => {
    const deps = getDeps();
    const expected = getToken();
    let response: Response;
    if (expected === undefined) {
      response = text(
        404,
        "The metrics endpoint is off: set SLUICE_METRICS_TOKEN on the web server (32 characters or more), then scrape /api/metrics with the header Authorization: Bearer <that token>.",
      );
    } else {
      const given = bearerToken(req);
      if (given === undefined || !sameToken(given, expected)) {
        response = text(
          401,
          "The metrics endpoint needs the token set in SLUICE_METRICS_TOKEN, sent as Authorization: Bearer <token>.",
          { "www-authenticate": 'Bearer realm="sluice-metrics"' },
        );
      } else {
        const registry = registryFor(deps);
        response = new Response(await registry.metrics(), {
          status: 200,
          headers: { "content-type": registry.contentType, "cache-control": "no-store" },
        });
      }
    }
    return withApiHeaders(response, { secure: deps.secureCookies });
  };
}
