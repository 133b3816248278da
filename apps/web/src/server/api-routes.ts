import { AUDIT_COLUMNS, allAudit, csvLine } from "@sluice/api/audit/audit-log";
import { type ApiDeps, createRequestContext } from "@sluice/api/context";
import { checkHealth } from "@sluice/api/health/health-service";
import { handleLimitedIngestRequest } from "@sluice/api/ingest/ingest-service";
import { createCaller } from "@sluice/api/root";
import { TRPCError } from "@trpc/server";
import { getHTTPStatusCodeFromError } from "@trpc/server/http";
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

/** The query string of GET /api/audit/export as audit.exportPlan's input; a value that is not a date stays a string. */
function exportInput(params: URLSearchParams): Record<string, unknown> {
  const input: Record<string, unknown> = {};
  for (const key of ["format", "action", "actorId", "targetType", "targetId"]) {
    const v = params.get(key);
    if (v !== null && v !== "") input[key] = v;
  }
  for (const key of ["from", "to"]) {
    const v = params.get(key);
    if (v === null || v === "") continue;
    const date = new Date(v);
    input[key] = Number.isNaN(date.getTime()) ? v : date;
  }
  return input;
}

/**
 * GET /api/audit/export?workspace=…&format=csv|json[&from&to&action&actorId&targetType&targetId]: the workspace's
 * audit entries that match, oldest first, streamed as a download. Who may is audit.exportPlan's rule (admins and
 * owners; an API token needs `read`), checked by calling it with this request's session or token.
 */
export function createAuditExportHandler(getDeps: () => ApiDeps) {
  return async (req: Request): Promise<Response> => {
    const deps = getDeps();
    const url = new URL(req.url);
    const secure = { secure: deps.secureCookies };
    const ctx = await createRequestContext(deps, req, new Headers(), {
      workspace: url.searchParams.get("workspace") ?? undefined,
    });
    let plan: Awaited<ReturnType<ReturnType<typeof createCaller>["audit"]["exportPlan"]>>;
    try {
      plan = await createCaller(ctx).audit.exportPlan(exportInput(url.searchParams) as never);
    } catch (err) {
      const error = err instanceof TRPCError ? err : new TRPCError({ code: "INTERNAL_SERVER_ERROR", cause: err });
      const message = error.code === "INTERNAL_SERVER_ERROR" ? "the export failed on our side" : error.message;
      return withApiHeaders(Response.json({ error: message }, { status: getHTTPStatusCodeFromError(error) }), secure);
    }
    const { workspaceId, format, ...filter } = plan;
    const encoder = new TextEncoder();
    const rows = allAudit(deps.db, workspaceId, filter);
    let first = true;
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(encoder.encode(format === "csv" ? `${AUDIT_COLUMNS.join(",")}\r\n` : "["));
      },
      async pull(controller) {
        const next = await rows.next();
        if (next.done) {
          if (format === "json") controller.enqueue(encoder.encode(first ? "]\n" : "\n]\n"));
          controller.close();
          return;
        }
        const text = format === "csv" ? csvLine(next.value) : `${first ? "\n" : ",\n"}${JSON.stringify(next.value)}`;
        first = false;
        controller.enqueue(encoder.encode(text));
      },
      async cancel() {
        await rows.return(undefined);
      },
    });
    const stamp = new Date().toISOString().slice(0, 19).replaceAll(":", "");
    const response = new Response(body, {
      headers: {
        "content-type": format === "csv" ? "text/csv; charset=utf-8" : "application/json; charset=utf-8",
        "content-disposition": `attachment; filename="sluice-audit-${stamp}.${format}"`,
        "cache-control": "no-store",
      },
    });
    return withApiHeaders(response, secure);
  };
}
