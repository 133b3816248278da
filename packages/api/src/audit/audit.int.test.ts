import { emptyDefinition } from "@sluice/pipeline/definition";
import { type ApiHarness, createApiHarness, rejects } from "@sluice/test-kit/api-harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRequestContext, WORKSPACE_HEADER } from "../context";
import { createCaller } from "../root";
import { deleteExpiredAudit } from "./audit-log";

// The audit log: every change made through the ladder is written, in order, with who (session or token), what and
// which object by name — never a secret; only admins and owners read it; old entries go with the retention.

let h: ApiHarness;
beforeAll(async () => {
  h = await createApiHarness("audit");
});
afterAll(async () => {
  await h?.close();
});

function generator() {
  const def = emptyDefinition("audited");
  def.spec.nodes.push(
    { id: "gen", type: "source.generator", config: { rate: 5 } },
    { id: "out", type: "sink.console", config: {} },
  );
  def.spec.edges.push({ from: "gen", to: "out" });
  return def;
}

async function bearer(secret: string, workspaceId: string) {
  const req = new Request("http://sluice.test/api/trpc", {
    headers: { authorization: `Bearer ${secret}`, [WORKSPACE_HEADER]: workspaceId },
  });
  return createCaller(await createRequestContext(h.deps, req, new Headers()));
}

describe("audit log", () => {
  it("records each change in order, by whom and through what, naming the object and never a secret", async () => {
    const { cookie, email } = await h.signUp("Auditor");
    const { api } = await h.caller(cookie);
    const me = (await api.auth.me())!;
    const workspaceId = me.workspaces[0]!.id;

    const { id: pipelineId } = await api.pipelines.create({ name: "orders-sync", definition: generator() });
    await api.pipelines.rename({ id: pipelineId, name: "orders-sync-2" });
    const { id: runId } = await api.runs.start({ pipelineId });
    await api.runs.stop({ runId });
    const password = "hunter2-very-secret";
    const { id: connectionId } = await api.connections.create({
      name: "warehouse",
      type: "postgres",
      config: { host: "warehouse.internal", port: 5432, database: "dw", user: "loader", password, sslmode: "disable" },
    });
    const { secret } = await api.tokens.createPersonal({ name: "ci", scopes: ["read", "write"], expiresInDays: 7 });
    const viaToken = await bearer(secret, workspaceId);
    await viaToken.pipelines.rename({ id: pipelineId, name: "orders-sync-3" });
    await api.pipelines.delete({ id: pipelineId });
    // A read is not a change.
    await api.pipelines.list();

    const { entries } = await api.audit.list({ limit: 50 });
    const inOrder = [...entries].reverse();
    expect(inOrder.map((e) => e.action)).toEqual([
      "pipelines.create",
      "pipelines.rename",
      "runs.start",
      "runs.stop",
      "connections.create",
      "tokens.createPersonal",
      "pipelines.rename",
      "pipelines.delete",
    ]);
    const [create, rename, start, stop, connection, token, renamedByToken, deleted] = inOrder;
    expect(create).toMatchObject({ targetType: "pipeline", targetId: pipelineId, targetName: "orders-sync" });
    expect(rename).toMatchObject({ targetId: pipelineId, targetName: "orders-sync-2", via: "session" });
    expect(start).toMatchObject({ targetType: "run", targetId: runId, targetName: "orders-sync-2" });
    expect(stop).toMatchObject({ targetType: "run", targetId: runId });
    expect(connection).toMatchObject({ targetType: "connection", targetId: connectionId, targetName: "warehouse" });
    expect(token).toMatchObject({ targetType: "token", targetName: "ci", details: { scopes: "read,write" } });
    expect(renamedByToken).toMatchObject({ via: "token", tokenName: "ci", actorId: me.user.id, actorName: email });
    // The deleted pipeline is still named: its name was read before it went.
    expect(deleted).toMatchObject({ targetId: pipelineId, targetName: "orders-sync-3" });
    for (const e of entries) expect(e.actorId).toBe(me.user.id);
    // Nothing secret anywhere in the log.
    const rows = await h.db.auditEntry.findMany({ where: { workspaceId } });
    expect(JSON.stringify(rows, (_, v) => (typeof v === "bigint" ? String(v) : v))).not.toContain(password);
    expect(JSON.stringify(rows, (_, v) => (typeof v === "bigint" ? String(v) : v))).not.toContain(secret);

    // Filters: by action prefix, by object, and a page at a time.
    const runs = await api.audit.list({ action: "runs.", limit: 50 });
    expect(runs.entries.map((e) => e.action)).toEqual(["runs.stop", "runs.start"]);
    const byTarget = await api.audit.list({ targetId: connectionId, limit: 50 });
    expect(byTarget.entries).toHaveLength(1);
    const first = await api.audit.list({ limit: 3 });
    expect(first.entries).toHaveLength(3);
    // As useInfiniteQuery asks for it, with a direction.
    const second = await api.audit.list({ limit: 3, cursor: first.next!, direction: "forward" });
    expect(second.entries[0]!.action).toBe(inOrder[4]!.action);
    await expect(rejects(api.audit.list({ action: "drop table;", limit: 5 }))).resolves.toMatchObject({
      code: "BAD_REQUEST",
    });
  });

  it("is for admins and owners: an editor is refused, and no one reads another workspace's", async () => {
    const { cookie } = await h.signUp("Owner");
    const { api } = await h.caller(cookie);
    const workspaceId = (await api.auth.me())!.workspaces[0]!.id;
    const { cookie: editorCookie } = await h.signUp("Editor");
    const editorId = (await (await h.caller(editorCookie)).api.auth.me())!.user.id;
    await h.db.membership.create({ data: { userId: editorId, workspaceId, role: "EDITOR" } });
    const editor = (await h.caller(editorCookie, workspaceId)).api;
    expect((await rejects(editor.audit.list({ limit: 5 }))).code).toBe("FORBIDDEN");
    // The editor's own workspace's log holds nothing of the owner's.
    await api.pipelines.create({ name: "owners-only", definition: generator() });
    const own = await (await h.caller(editorCookie)).api.audit.list({ limit: 50 });
    expect(own.entries.some((e) => e.targetName === "owners-only")).toBe(false);
  });

  it("deletes entries older than the retention, and only those", async () => {
    const { cookie } = await h.signUp("Keeper");
    const { api } = await h.caller(cookie);
    await api.pipelines.create({ name: "kept", definition: generator() });
    await api.pipelines.create({ name: "aged", definition: generator() });
    const workspaceId = (await api.auth.me())!.workspaces[0]!.id;
    await h.db.auditEntry.updateMany({
      where: { workspaceId, targetName: "aged" },
      data: { at: new Date(Date.now() - 40 * 86_400_000) },
    });
    expect(await deleteExpiredAudit(h.db, 30 * 86_400_000)).toBeGreaterThanOrEqual(1);
    const left = await api.audit.list({ limit: 50 });
    expect(left.entries.map((e) => e.targetName)).toEqual(["kept"]);
  });
});
