import { checkHealth } from "@sluice/api/health/health-service";
import { getDeps } from "@/server/deps";

/** 200 when Postgres, Redis and at least one worker answer; 503 otherwise, with what is wrong. */
export async function GET(): Promise<Response> {
  const health = await checkHealth(getDeps());
  return Response.json(health, {
    status: health.status === "ok" ? 200 : 503,
    headers: { "cache-control": "no-store" },
  });
}
