import { createAuditExportHandler } from "@/server/api-routes";
import { getDeps } from "@/server/deps";

// The audit log as a CSV or JSON download (see createAuditExportHandler).

export const dynamic = "force-dynamic";

let handle: ReturnType<typeof createAuditExportHandler> | undefined;

export async function GET(req: Request): Promise<Response> {
  handle ??= createAuditExportHandler(getDeps);
  return handle(req);
}
