import { emptyDefinition } from "@sluice/pipeline/definition";
import { type ApiHarness, createApiHarness } from "@sluice/test-kit/api-harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAuditExportHandler } from "./api-routes";

// GET /api/audit/export: the audit log as CSV or JSON, oldest first, for admins and owners of the workspace named.

let h: ApiHarness;
let handle: ReturnType<typeof createAuditExportHandler>;
beforeAll(async () => {
  h = await createApiHarness("audit-export");
  handle = createAuditExportHandler(() => h.deps);
});
afterAll(async () => {
  await h?.close();
});

function exportRequest(query: Record<string, string>, cookie?: string): Request {
  const url = new URL("http://sluice.test/api/audit/export");
  for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
  return new Request(url, { headers: cookie ? { cookie } : {} });
}

/** A CSV body's rows as fields (quoted fields with commas, quotes and line breaks included). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") {
      row.push(field);
      field = "";
    } else if (c === "\r" && text[i + 1] === "\n") {
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
      i++;
    } else field += c;
  }
  return rows;
}

describe("GET /api/audit/export", () => {
  it("streams the workspace's entries oldest first as CSV and as JSON, to its owner", async () => {
    const { cookie } = await h.signUp("Exporter");
    const { api } = await h.caller(cookie);
    const workspaceId = (await api.auth.me())!.workspaces[0]!.id;
    const def = emptyDefinition("x");
    // A name a spreadsheet would run as a formula, with a comma and a quote in it.
    const { id } = await api.pipelines.create({ name: '=HYPERLINK("x",1)', definition: def });
    await api.pipelines.rename({ id, name: "plain, with comma" });
    await api.pipelines.delete({ id });

    const csv = await handle(exportRequest({ workspace: workspaceId, format: "csv" }, cookie));
    expect(csv.status).toBe(200);
    expect(csv.headers.get("content-type")).toMatch(/^text\/csv/);
    expect(csv.headers.get("content-disposition")).toMatch(/^attachment; filename="sluice-audit-.*\.csv"$/);
    const rows = parseCsv(await csv.text());
    const header = rows[0]!;
    const action = header.indexOf("action");
    const name = header.indexOf("targetName");
    expect(rows.slice(1).map((r) => r[action])).toEqual(["pipelines.create", "pipelines.rename", "pipelines.delete"]);
    expect(rows[1]![name]).toBe(`'=HYPERLINK("x",1)`);
    expect(rows[2]![name]).toBe("plain, with comma");

    const json = await handle(
      exportRequest({ workspace: workspaceId, format: "json", action: "pipelines.rename" }, cookie),
    );
    expect(json.status).toBe(200);
    const entries = (await json.json()) as { action: string; targetName: string }[];
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ action: "pipelines.rename", targetName: "plain, with comma" });

    const empty = await handle(
      exportRequest({ workspace: workspaceId, format: "json", from: "2000-01-01", to: "2000-01-02" }, cookie),
    );
    expect(await empty.json()).toEqual([]);
  });

  it("refuses the signed out, members below admin, and bad filters, naming what is wrong", async () => {
    const { cookie } = await h.signUp("Owner");
    const workspaceId = (await (await h.caller(cookie)).api.auth.me())!.workspaces[0]!.id;
    const { cookie: viewerCookie } = await h.signUp("Viewer");
    const viewerId = (await (await h.caller(viewerCookie)).api.auth.me())!.user.id;
    await h.db.membership.create({ data: { userId: viewerId, workspaceId, role: "VIEWER" } });

    expect((await handle(exportRequest({ workspace: workspaceId, format: "csv" }))).status).toBe(401);
    const viewer = await handle(exportRequest({ workspace: workspaceId, format: "csv" }, viewerCookie));
    expect(viewer.status).toBe(403);
    expect(((await viewer.json()) as { error: string }).error).toMatch(/admin role/);
    const badFormat = await handle(exportRequest({ workspace: workspaceId, format: "xlsx" }, cookie));
    expect(badFormat.status).toBe(400);
    expect(((await badFormat.json()) as { error: string }).error).toMatch(/format/);
    const badDate = await handle(exportRequest({ workspace: workspaceId, format: "csv", from: "yesterday" }, cookie));
    expect(badDate.status).toBe(400);
    expect(((await badDate.json()) as { error: string }).error).toMatch(/from/);
    const reversed = await handle(
      exportRequest({ workspace: workspaceId, format: "csv", from: "2026-02-01", to: "2026-01-01" }, cookie),
    );
    expect(reversed.status).toBe(400);
  });
});
