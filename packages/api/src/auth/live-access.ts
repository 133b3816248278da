import type { Db } from "@sluice/db/client";
import { TRPCError } from "@trpc/server";

// A subscription outlives the request that opened it: a live canvas can stay open for days. What decided that the
// caller may watch — their session, their membership, their API token — is checked again while it runs, so signing
// out, being removed from the workspace or revoking the token ends the streams already open too, within
// RECHECK_MS, rather than at their next reconnect.

/** How often an open subscription checks that its caller may still watch. */
export const RECHECK_MS = 10_000;

interface Caller {
  db: Db;
  workspaceId: string;
  session: { sessionId: string; user: { id: string } };
  bearer: { ok: true; token: { id: string; kind: string } } | { ok: false } | null;
}

/** Why the caller may no longer watch, or null while they may. */
async function lostAccess(ctx: Caller, now = new Date()): Promise<string | null> {
  const token = ctx.bearer?.ok ? ctx.bearer.token : null;
  if (token) {
    const row = await ctx.db.apiToken.findUnique({
      where: { id: token.id },
      select: { revokedAt: true, expiresAt: true },
    });
    if (!row) return "this API token no longer exists";
    if (row.revokedAt && row.revokedAt <= now) return `this API token was revoked at ${row.revokedAt.toISOString()}`;
    if (row.expiresAt <= now) return `this API token expired at ${row.expiresAt.toISOString()}`;
    // A workspace token's rights are its own; a personal token's are its maker's membership, checked below.
    if (token.kind === "workspace") return null;
  } else {
    const session = await ctx.db.session.findUnique({
      where: { id: ctx.session.sessionId },
      select: { expiresAt: true },
    });
    if (!session || session.expiresAt <= now) return "your session has ended; sign in again";
  }
  const member = await ctx.db.membership.findUnique({
    where: { userId_workspaceId: { userId: ctx.session.user.id, workspaceId: ctx.workspaceId } },
    select: { role: true },
  });
  return member ? null : "you are not a member of that workspace any more";
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === "object" && value !== null && Symbol.asyncIterator in value;
}

/** `source`, ending with a 401/403 once the caller may no longer watch (checked between items, RECHECK_MS apart). */
async function* whileAllowed<T>(ctx: Caller, source: AsyncIterable<T>, everyMs: number): AsyncGenerator<T> {
  let checkedAt = Date.now();
  for await (const item of source) {
    if (Date.now() - checkedAt >= everyMs) {
      checkedAt = Date.now();
      const why = await lostAccess(ctx);
      if (why) {
        throw new TRPCError({ code: why.startsWith("your session") ? "UNAUTHORIZED" : "FORBIDDEN", message: why });
      }
    }
    yield item;
  }
}

/** The ladder's step for subscriptions: their stream, re-checked as it runs. Queries and mutations pass untouched. */
export async function guardSubscription<R extends { ok: boolean }>(
  opts: { ctx: Caller; type: string },
  next: () => Promise<R>,
  everyMs = RECHECK_MS,
): Promise<R> {
  const result = await next();
  if (opts.type !== "subscription" || !result.ok) return result;
  const data = (result as unknown as { data: unknown }).data;
  if (!isAsyncIterable(data)) return result;
  return { ...result, data: whileAllowed(opts.ctx, data, everyMs) };
}
