import type { Db } from "@sluice/db/client";
import type { Logger } from "@sluice/log/logger";
import { type AuditActor, type AuditRecord, type AuditTarget, recordAudit } from "./audit-log";

// Writes the audit entry of every change made through a workspace procedure (trpc.ts puts this on the ladder's
// workspace rung, so each procedure built on it is covered, including ones written later): the procedure's path is
// the action, the object is found from the input (or the result, for what it created), its name is read before the
// call (so a deletion still says what was deleted), and a few secret-free facts of the input are kept. Reads and
// failed calls are not written. Changes made outside a workspace procedure (accepting an invitation, creating a
// workspace) write their entry themselves with recordAudit.

/** Changes too small to audit: reading the inbox marks it read. */
const NOT_AUDITED = new Set(["alerts.markRead"]);

/** Procedures after which their object may be gone, so its name is read before the call. */
const REMOVES = /\.(delete|remove|revoke\w*|leave)$/;

/** Input fields kept in `details` when they are plain values: what was granted or chosen, never content or secrets. */
const DETAIL_KEYS = ["role", "reset", "version", "scopes", "expiresAt", "email", "kind", "reason", "enabled", "count"];

/** The object kind a router acts on. */
function targetType(path: string): string {
  const router = path.split(".")[0] ?? path;
  const known: Record<string, string> = {
    pipelines: "pipeline",
    runs: "run",
    connections: "connection",
    schedules: "schedule",
    alerts: "alert",
    members: "member",
    invitations: "invitation",
    tokens: "token",
    workspaces: "workspace",
    workspace: "workspace",
    templates: "template",
    shares: "share link",
    savedQueries: "saved query",
    dashboards: "dashboard",
    reports: "report",
    backfills: "backfill",
  };
  return known[router] ?? router;
}

const ID_KEYS = [
  "pipelineId",
  "runId",
  "connectionId",
  "scheduleId",
  "alertId",
  "userId",
  "tokenId",
  "invitationId",
  "templateId",
];

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function stringField(value: unknown, key: string): string | null {
  if (!isRecord(value)) return null;
  const v = value[key];
  return typeof v === "string" && v.length > 0 ? v : null;
}

/** The object a call acts on, as far as its input says (its own `<type>Id` or `id`, else any id it names). */
function targetFromInput(path: string, input: unknown): AuditTarget {
  const type = targetType(path);
  const id = stringField(input, `${type}Id`) ?? stringField(input, "id");
  return { type, id, name: stringField(input, "name") };
}

/** The object's name before the call, for the kinds that have one. */
async function nameOf(db: Db, workspaceId: string, target: AuditTarget): Promise<string | null> {
  if (!target.id) return null;
  const id = target.id;
  switch (target.type) {
    case "pipeline":
      return (await db.pipeline.findFirst({ where: { id, workspaceId }, select: { name: true } }))?.name ?? null;
    case "connection":
      return (await db.connection.findFirst({ where: { id, workspaceId }, select: { name: true } }))?.name ?? null;
    case "run":
      return (
        (await db.run.findFirst({ where: { id, workspaceId }, select: { pipeline: { select: { name: true } } } }))
          ?.pipeline.name ?? null
      );
    case "template":
      return (await db.template.findFirst({ where: { id, workspaceId }, select: { title: true } }))?.title ?? null;
    case "saved query":
      return (await db.savedQuery.findFirst({ where: { id, workspaceId }, select: { name: true } }))?.name ?? null;
    case "dashboard":
      return (await db.dashboard.findFirst({ where: { id, workspaceId }, select: { name: true } }))?.name ?? null;
    case "report":
      return (await db.report.findFirst({ where: { id, workspaceId }, select: { name: true } }))?.name ?? null;
    case "backfill":
      return (
        (await db.backfill.findFirst({ where: { id, workspaceId }, select: { shadowTable: true } }))?.shadowTable ??
        null
      );
    case "member":
      return (await db.user.findUnique({ where: { id }, select: { email: true } }))?.email ?? null;
    default:
      return null;
  }
}

function detailsOf(input: unknown): AuditRecord["details"] {
  if (!isRecord(input)) return null;
  const details: NonNullable<AuditRecord["details"]> = {};
  for (const key of DETAIL_KEYS) {
    const v = input[key];
    if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") details[key] = v;
    else if (v instanceof Date) details[key] = v.toISOString();
    else if (Array.isArray(v) && v.every((x) => typeof x === "string")) details[key] = v.join(",");
  }
  return Object.keys(details).length > 0 ? details : null;
}

interface AuditContext {
  db: Db;
  workspaceId: string;
  session: { user: { id: string; email: string } };
  bearer: { ok: true; token: { id: string; name: string; kind: string } } | { ok: false } | null;
  clientAddress: string | null;
  logger?: Logger;
}

/** Who is acting in a request: its user, and the API token when one was used. */
export function auditActorOf(ctx: Omit<AuditContext, "db" | "workspaceId" | "logger">): AuditActor {
  const token = ctx.bearer?.ok ? ctx.bearer.token : null;
  return {
    userId: ctx.session.user.id,
    // A workspace token acts in its own name; a personal one as its creator.
    name: token?.kind === "workspace" ? token.name : ctx.session.user.email,
    via: token ? "token" : "session",
    tokenId: token?.id ?? null,
    tokenName: token?.name ?? null,
    address: ctx.clientAddress,
  };
}

/** The ladder's audit step: runs the call and, for a change that succeeded, writes its entry. */
export async function auditCall<R extends { ok: boolean }>(
  opts: { ctx: AuditContext; path: string; type: string; getRawInput: () => Promise<unknown> },
  next: () => Promise<R>,
): Promise<R> {
  const { ctx, path, type } = opts;
  if (type !== "mutation" || NOT_AUDITED.has(path)) return next();
  const input = await opts.getRawInput();
  const target = targetFromInput(path, input);
  // Only a call that removes its object must have the name read before it; any other is named after it succeeds,
  // so a refused call costs no lookup.
  if (REMOVES.test(path)) target.name ??= await nameOf(ctx.db, ctx.workspaceId, target).catch(() => null);
  const result = await next();
  if (!result.ok) return result;
  const data = (result as unknown as { data: unknown }).data;
  // What the call created names itself in its result.
  if (!target.id) {
    target.id =
      stringField(data, "id") ??
      // Or one level down, as in { secret, token: { id, … } }.
      (isRecord(data)
        ? Object.values(data)
            .map((v) => stringField(v, "id"))
            .find(Boolean)
        : null) ??
      ID_KEYS.map((k) => stringField(input, k)).find(Boolean) ??
      null;
  }
  target.name ??= stringField(data, "name") ?? (await nameOf(ctx.db, ctx.workspaceId, target).catch(() => null));
  try {
    await recordAudit(ctx.db, ctx.workspaceId, auditActorOf(ctx), { action: path, target, details: detailsOf(input) });
  } catch (err) {
    // The change is made and stays made; a missing entry is an operator's matter, said loudly in the log.
    ctx.logger?.error("audit entry not written", { action: path, workspaceId: ctx.workspaceId, err });
  }
  return result;
}
