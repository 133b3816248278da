import { randomBytes } from "node:crypto";
import { EXPORT_LIMITS } from "./query-router.types";
import { type QueryCaller, type QueryDeps, type QueryJob, runQueryJob } from "./query-service";
import { encodeResult, RESULT_CONTENT_TYPES, type ResultFileFormat } from "./result-files";

// Downloads of a query's result as CSV or Parquet (POST /api/queries/export): the query runs again on the server
// with a higher row limit than the page shows, under the same timeout rules, and the file is built from its result.
// Who may is checked first by the plan procedures (queries.exportPlan: editors, as for ad-hoc SQL;
// savedQueries.exportPlan: any member, for a saved query as saved).

export interface ExportedFile {
  body: Buffer;
  filename: string;
  contentType: string;
  rows: number;
  /** The result had more rows (or bytes) than a download holds; the file has the first ones. */
  truncated: boolean;
}

/** A file name from a query's name: letters, digits and dashes. */
function exportFileName(name: string, format: ResultFileFormat): string {
  const slug = name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 60);
  const stamp = new Date().toISOString().slice(0, 19).replaceAll(":", "");
  return `${slug || "query"}-${stamp}.${format}`;
}

/** Runs the query again for a download and encodes its result. */
export async function exportQueryFile(
  deps: QueryDeps,
  caller: QueryCaller,
  job: Omit<QueryJob, "queryId" | "maxBytes"> & { queryId?: string | undefined },
  format: ResultFileFormat,
  name: string,
): Promise<ExportedFile> {
  const result = await runQueryJob(deps, caller, {
    ...job,
    queryId: job.queryId ?? `export-${randomBytes(8).toString("hex")}`,
    limit: Math.min(job.limit, EXPORT_LIMITS.maxRows),
    maxBytes: EXPORT_LIMITS.maxBytes,
  });
  return {
    body: await encodeResult(result, format),
    filename: exportFileName(name, format),
    contentType: RESULT_CONTENT_TYPES[format],
    rows: result.rows.length,
    truncated: result.truncated,
  };
}
