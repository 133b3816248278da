import { getDeps } from "@/server/deps";
import { webEnv } from "@/server/env";
import { createMetricsHandler } from "@/server/metrics-handler";

// Prometheus scrapes: GET /api/metrics with `Authorization: Bearer $SLUICE_METRICS_TOKEN`. See docs/monitoring.md.

export const dynamic = "force-dynamic";

let handle: ReturnType<typeof createMetricsHandler> | undefined;

export async function GET(req: Request): Promise<Response> {
  handle ??= createMetricsHandler(getDeps, () => webEnv().metricsToken);
  return handle(req);
}
