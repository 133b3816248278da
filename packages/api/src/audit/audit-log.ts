import type { Db } from "@sluice/db/client";
import type { Prisma } from "@sluice/db/generated/prisma/client";
import { parseDuration } from "@sluice/pipeline/duration";
import { z } from "zod";

// The workspace audit log: who did what to which object, when, and through what (a session or an API token). Every
// change a workspace procedure makes is written here by the ladder (audit-trail.ts); this file owns the rows:
// writing, reading a page with filters, reading all for an export, and deleting what is older than the retention.

/** Who acted, as the entry keeps it. */
export interface AuditActor {
  userId: string | null;
  /** The user's email, or the workspace token's name. */
  name: string;
  via: "session" | "token";
  tokenId: string | null;
  tokenName: string | null;
  address: string | null;
}

export interface AuditTarget {
  type: string;
  id: string | null;
  name: string | null;
}

export interface AuditRecord {
  action: string;
  target: AuditTarget | null;
  /** Small, secret-free facts (a role granted, a version saved); never a request body. */
  details: Record<string, string | number | boolean | null> | null;
}

export interface AuditEntryView {
  id: string;
  at: Date;
  actorId: string | null;
  actorName: string;
  via: string;
  tokenId: string | null;
  tokenName: string | null;
  action: string;
  targetType: string | null;
  targetId: string | null;
  targetName: string | null;
  details: Record<string, unknown> | null;
  address: string | null;
}

export interface AuditFilter {
  from?: Date;
  to?: Date;
  /** Exact action (`runs.start`) or a router's prefix (`runs.`). */
  action?: string;
  actorId?: string;
  targetType?: string;
  targetId?: string;
}

/** Writes one entry; `db` may be a transaction's client, so a change and its entry commit together. */
export async function recordAudit(
  db: Pick<Db, "auditEntry">,
  workspaceId: string,
  actor: AuditActor,
  record: AuditRecord,
): Promise<void> {
  await db.auditEntry.create({
    data: {
      workspaceId,
      actorId: actor.userId,
      actorName: actor.name,
      via: actor.via,
      tokenId: actor.tokenId,
      tokenName: actor.tokenName,
      action: record.action,
      targetType: record.target?.type ?? null,
      targetId: record.target?.id ?? null,
      targetName: record.target?.name ?? null,
      details: record.details ?? undefined,
      address: actor.address,
    },
  });
}

function where(workspaceId: string, filter: AuditFilter): Prisma.AuditEntryWhereInput {
  const action = filter.action
    ? filter.action.endsWith(".")
      ? { startsWith: filter.action }
      : { equals: filter.action }
    : undefined;
  return {
    workspaceId,
    at: filter.from || filter.to ? { gte: filter.from, lt: filter.to } : undefined,
    action,
    actorId: filter.actorId,
    targetType: filter.targetType,
    targetId: filter.targetId,
  };
}

type Row = Awaited<ReturnType<Db["auditEntry"]["findFirstOrThrow"]>>;

function view(row: Row): AuditEntryView {
  return {
    id: row.id.toString(),
    at: row.at,
    actorId: row.actorId,
    actorName: row.actorName,
    via: row.via,
    tokenId: row.tokenId,
    tokenName: row.tokenName,
    action: row.action,
    targetType: row.targetType,
    targetId: row.targetId,
    targetName: row.targetName,
    details: (row.details as Record<string, unknown> | null) ?? null,
    address: row.address,
  };
}

/** A page of entries, newest first; `next` is the cursor (an entry id) of the page after, null at the end. */
export async function listAudit(
  db: Db,
  workspaceId: string,
  filter: AuditFilter,
  page: { cursor?: string; limit: number },
): Promise<{ entries: AuditEntryView[]; next: string | null }> {
  const rows = await db.auditEntry.findMany({
    where: { ...where(workspaceId, filter), ...(page.cursor ? { id: { lt: BigInt(page.cursor) } } : {}) },
    orderBy: { id: "desc" },
    take: page.limit + 1,
  });
  const more = rows.length > page.limit;
  const entries = rows.slice(0, page.limit).map(view);
  return { entries, next: more ? (entries.at(-1)?.id ?? null) : null };
}

/** Every entry the filter takes, oldest first, read a page at a time (an export of a year's log stays small). */
export async function* allAudit(db: Db, workspaceId: string, filter: AuditFilter): AsyncGenerator<AuditEntryView> {
  let after: bigint | undefined;
  while (true) {
    const rows = await db.auditEntry.findMany({
      where: { ...where(workspaceId, filter), ...(after === undefined ? {} : { id: { gt: after } }) },
      orderBy: { id: "asc" },
      take: 1000,
    });
    for (const row of rows) yield view(row);
    if (rows.length < 1000) return;
    after = rows.at(-1)!.id;
  }
}

/** SLUICE_AUDIT_RETENTION as the web app's env schema reads it: how long entries are kept, in milliseconds. */
export const AuditRetentionSetting = z
  .string()
  .default("365d")
  .transform((v, ctx) => {
    const ms = parseDuration(v);
    if (ms === undefined || ms < 86_400_000 || ms > 3650 * 86_400_000) {
      ctx.addIssue({ code: "custom", message: `"${v}" is not a duration from 1d to 3650d; write e.g. 365d or 90d` });
      return z.NEVER;
    }
    return ms;
  });

/** Deletes entries older than `retentionMs`, a batch at a time so no one statement holds the table long. */
export async function deleteExpiredAudit(db: Db, retentionMs: number, nowMs = Date.now()): Promise<number> {
  const before = new Date(nowMs - retentionMs);
  let deleted = 0;
  while (true) {
    const n = await db.$executeRaw`
      DELETE FROM "AuditEntry" WHERE id IN (SELECT id FROM "AuditEntry" WHERE "at" < ${before} LIMIT 5000)`;
    deleted += n;
    if (n < 5000) return deleted;
  }
}

// --- Export --------------------------------------------------------------------------------------------------------

export const AUDIT_COLUMNS = [
  "at",
  "actorName",
  "actorId",
  "via",
  "tokenName",
  "tokenId",
  "action",
  "targetType",
  "targetId",
  "targetName",
  "details",
  "address",
] as const;

/**
 * One CSV field: quoted when it holds a quote, comma or line break; a value a spreadsheet would run as a formula
 * (starting with = + - @ or a tab/return) gets a leading apostrophe, since names come from users.
 */
export function csvField(value: unknown): string {
  let text =
    value === null || value === undefined
      ? ""
      : value instanceof Date
        ? value.toISOString()
        : typeof value === "object"
          ? JSON.stringify(value)
          : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function csvLine(entry: AuditEntryView): string {
  return `${AUDIT_COLUMNS.map((c) => csvField(entry[c])).join(",")}\r\n`;
}
