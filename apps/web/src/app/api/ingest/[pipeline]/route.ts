import { createIngestHandler } from "@/server/api-routes";
import { getDeps } from "@/server/deps";

// Webhook ingest: POST /api/ingest/<pipelineId> with `Authorization: Bearer <token>` and a JSON or JSON Lines body.
// 202 once the records are in Redis; 429 with Retry-After past the per-token rate limit (SLUICE_RATE_INGEST); the
// body is read against SLUICE_INGEST_MAX_BODY as it streams in. See packages/api/src/ingest/ingest-service.ts for
// every other answer.

export const dynamic = "force-dynamic";

let handle: ReturnType<typeof createIngestHandler> | undefined;

export async function POST(req: Request, context: { params: Promise<{ pipeline: string }> }): Promise<Response> {
  const { pipeline } = await context.params;
  handle ??= createIngestHandler(getDeps);
  return handle(req, pipeline);
}
