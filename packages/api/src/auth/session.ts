import { createHash, randomBytes } from "node:crypto";
import type { Db } from "@sluice/db/client";

// Sessions: the browser holds a random token in an HttpOnly cookie; the database holds only its sha256.

export const SESSION_COOKIE = "sluice_session";
const SESSION_DAYS = 30;
/** A session's expiry is pushed forward at most this often, to keep reads free of writes. */
const TOUCH_EVERY_MS = 3_600_000;

export interface SessionUser {
  sessionId: string;
  user: { id: string; email: string; name: string };
  memberships: { workspaceId: string; workspaceName: string; role: "OWNER" | "ADMIN" | "EDITOR" | "VIEWER" }[];
}

function sessionId(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

export async function createSession(
  db: Db,
  userId: string,
  userAgent: string | null,
): Promise<{ token: string; expiresAt: Date }> {
  const token = randomBytes(32).toString("base64url");
  const expiresAt = new Date(Date.now() + SESSION_DAYS * 86_400_000);
  await db.session.create({
    data: { id: sessionId(token), userId, expiresAt, userAgent: userAgent?.slice(0, 300) ?? null },
  });
  return { token, expiresAt };
}

export async function findSession(db: Db, token: string): Promise<SessionUser | null> {
  if (!/^[A-Za-z0-9_-]{20,100}$/.test(token)) return null;
  const id = sessionId(token);
  const session = await db.session.findUnique({
    where: { id },
    include: {
      user: {
        select: {
          id: true,
          email: true,
          name: true,
          memberships: { include: { workspace: { select: { name: true } } }, orderBy: { createdAt: "asc" } },
        },
      },
    },
  });
  const now = Date.now();
  if (!session || session.expiresAt.getTime() <= now) return null;
  if (now - session.lastSeenAt.getTime() > TOUCH_EVERY_MS) {
    await db.session.update({
      where: { id },
      data: { lastSeenAt: new Date(now), expiresAt: new Date(now + SESSION_DAYS * 86_400_000) },
    });
  }
  return {
    sessionId: id,
    user: { id: session.user.id, email: session.user.email, name: session.user.name },
    memberships: session.user.memberships.map((m) => ({
      workspaceId: m.workspaceId,
      workspaceName: m.workspace.name,
      role: m.role,
    })),
  };
}

export async function deleteSession(db: Db, id: string): Promise<void> {
  await db.session.deleteMany({ where: { id } });
}

export function sessionCookie(token: string, expiresAt: Date, secure: boolean): string {
  return [
    `${SESSION_COOKIE}=${token}`,
    "Path=/",
    "HttpOnly",
    "SameSite=Lax",
    `Expires=${expiresAt.toUTCString()}`,
    ...(secure ? ["Secure"] : []),
  ].join("; ");
}

export function clearedSessionCookie(secure: boolean): string {
  return [`${SESSION_COOKIE}=`, "Path=/", "HttpOnly", "SameSite=Lax", "Max-Age=0", ...(secure ? ["Secure"] : [])].join(
    "; ",
  );
}

export function readCookie(header: string | null, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    // Our tokens are base64url, so no decoding: a malformed %-escape must not turn into a server error.
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
