import { createRequestContext } from "@sluice/api/context";
import { exportQueryFile } from "@sluice/api/queries/query-export";
import { createCaller } from "@sluice/api/root";
import { savedQueryToRun, savedRunValues } from "@sluice/api/saved-queries/saved-query-service";
import { TRPCError } from "@trpc/server";
import { getHTTPStatusCodeFromError } from "@trpc/server/http";
import { getDeps } from "@/server/deps";
import { withApiHeaders } from "@/server/security-headers";

// POST /api/queries/export: a query's result as a CSV or Parquet download. The body is JSON, either
// `{ "saved": "<id>", format, values?, timeRange?, limit?, timeoutMs? }` — a saved query as saved, which any member may
// download — or `{ source, sql, parameters?, declarations?, format, limit?, timeoutMs? }` — ad-hoc SQL, for editors.
// Who may is decided by calling savedQueries.exportPlan or queries.exportPlan first with this request's session or
// API token (role, token scope and rate limit as for any procedure); the workspace is the x-sluice-workspace header's.
// The query then runs again with the download's row limit (up to 1,000,000 rows) and the same timeout rules.

export const dynamic = "force-dynamic";

/** A request body is at most this big (SQL is at most 100,000 characters). */
const MAX_BODY = 512 * 1024;

function failure(message: string, status: number, secure: boolean): Response {
  return withApiHeaders(Response.json({ error: message }, { status, headers: { "cache-control": "no-store" } }), {
    secure,
  });
}

export async function POST(req: Request): Promise<Response> {
  const deps = getDeps();
  const secure = deps.secureCookies;
  // JSON only: a cross-site form cannot send it without the browser asking first.
  if (!(req.headers.get("content-type") ?? "").toLowerCase().startsWith("application/json")) {
    return failure("send the export request as application/json", 415, secure);
  }
  const text = await req.text();
  if (text.length > MAX_BODY) return failure(`the request body is larger than ${MAX_BODY} bytes`, 413, secure);
  let body: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) throw new Error("not an object");
    body = parsed as Record<string, unknown>;
  } catch {
    return failure("the request body is not a JSON object", 400, secure);
  }
  try {
    const ctx = await createRequestContext(deps, req, new Headers());
    const api = createCaller(ctx);
    if (typeof body.saved === "string") {
      const { saved, ...rest } = body;
      const plan = await api.savedQueries.exportPlan({ ...rest, id: saved } as never);
      const query = await savedQueryToRun(deps, plan.workspaceId, plan.id);
      const file = await exportQueryFile(
        deps,
        { workspaceId: plan.workspaceId, userId: plan.userId },
        {
          source: query.source,
          sql: query.sql,
          declarations: query.declarations,
          values: savedRunValues(plan),
          limit: plan.limit,
          timeoutMs: plan.timeoutMs,
          queryId: plan.queryId,
        },
        plan.format,
        query.name,
      );
      return download(file, secure);
    }
    const plan = await api.queries.exportPlan(body as never);
    const file = await exportQueryFile(
      deps,
      { workspaceId: plan.workspaceId, userId: plan.userId },
      { ...plan, values: plan.parameters },
      plan.format,
      "query",
    );
    return download(file, secure);
  } catch (err) {
    const error = err instanceof TRPCError ? err : new TRPCError({ code: "INTERNAL_SERVER_ERROR", cause: err });
    const message = error.code === "INTERNAL_SERVER_ERROR" ? "the download failed on our side" : error.message;
    return failure(message, getHTTPStatusCodeFromError(error), secure);
  }
}

function download(file: Awaited<ReturnType<typeof exportQueryFile>>, secure: boolean): Response {
  const response = new Response(new Uint8Array(file.body), {
    headers: {
      "content-type": file.contentType,
      "content-disposition": `attachment; filename="${file.filename}"`,
      "content-length": String(file.body.length),
      "cache-control": "no-store",
      "x-sluice-rows": String(file.rows),
      "x-sluice-truncated": String(file.truncated),
    },
  });
  return withApiHeaders(response, { secure });
}
