import { handleIngestRequest } from "@sluice/api/ingest/ingest-service";
import { getDeps } from "@/server/deps";

// Webhook ingest: POST /api/ingest/<pipelineId> with `Authorization: Bearer <token>` and a JSON or JSON Lines body.
// 202 once the records are in Redis; see packages/api/src/ingest/ingest-service.ts for every other answer.

export const dynamic = "force-dynamic";

export async function POST(req: Request, context: { params: Promise<{ pipeline: string }> }): Promise<Response> {
  const { pipeline } = await context.params;
  return handleIngestRequest(getDeps(), pipeline, req);
}
