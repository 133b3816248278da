import type { Db } from "@sluice/db/client";
import type { SessionUser } from "../auth/session";
import type { TokenScope } from "./token-scopes";
import { looksLikeSecret, secretHash } from "./token-secret";

// A request's `Authorization: Bearer <token>`, resolved once per HTTP request (a tRPC batch shares it): found by the
// SHA-256 of the secret, refused when revoked or expired, and for a personal token checked against its creator's
// membership as it is now, so removing someone from a workspace stops their tokens with the next request. Nothing is
// cached between requests: a revocation holds from the next one.

export type TokenKind = "personal" | "workspace" | "ingest";
type Role = SessionUser["memberships"][number]["role"];

/** The API token a Bearer request acts with. */
export interface TokenCaller {
  id: string;
  kind: TokenKind;
  name: string;
  scopes: TokenScope[];
  workspaceId: string;
  /** The role it acts with: its creator's current one (personal), its own (workspace); null for ingest tokens. */
  role: Role | null;
  /** An ingest token's pipeline; null for the other kinds. */
  pipelineId: string | null;
}

export type BearerOutcome =
  /** `session` stands in for a signed-in session: the token's user, with the one membership the token acts in. */
  | { ok: true; token: TokenCaller; session: SessionUser }
  /** Why the token was refused, as the 401 says it. */
  | { ok: false; reason: string };

/** `lastUsedAt` is written at most this often per token, so a busy token costs no write per request. */
const TOUCH_EVERY_MS = 60_000;

export interface BearerRequest {
  /** The client's address, recorded as where the token was last used from. */
  clientAddress: string | null;
  now?: Date;
}

export async function authenticateBearer(db: Db, secret: string, request: BearerRequest): Promise<BearerOutcome> {
  if (!looksLikeSecret(secret)) {
    return {
      ok: false,
      reason: "the Authorization header holds no Sluice API token: send Authorization: Bearer slu_…",
    };
  }
  const now = request.now ?? new Date();
  const row = await db.apiToken.findUnique({
    where: { secretHash: secretHash(secret) },
    select: {
      id: true,
      kind: true,
      name: true,
      scopes: true,
      role: true,
      workspaceId: true,
      pipelineId: true,
      expiresAt: true,
      revokedAt: true,
      lastUsedAt: true,
      workspace: { select: { name: true } },
      createdBy: {
        select: { id: true, email: true, name: true, memberships: { select: { workspaceId: true, role: true } } },
      },
    },
  });
  if (!row) {
    return {
      ok: false,
      reason: "this API token is not valid: Sluice never issued it, or it went with its workspace or pipeline",
    };
  }
  if (row.revokedAt && row.revokedAt <= now) {
    return { ok: false, reason: `this API token was revoked at ${row.revokedAt.toISOString()}` };
  }
  if (row.expiresAt <= now) {
    return { ok: false, reason: `this API token expired at ${row.expiresAt.toISOString()}; create a new one` };
  }
  const creator = row.createdBy;
  let role: Role | null = null;
  if (row.kind === "PERSONAL") {
    const membership = creator.memberships.find((m) => m.workspaceId === row.workspaceId);
    if (!membership) {
      return {
        ok: false,
        reason: "this personal API token no longer works: its owner is no longer a member of its workspace",
      };
    }
    role = membership.role;
  } else if (row.kind === "WORKSPACE") {
    role = row.role;
  }

  if (!row.lastUsedAt || now.getTime() - row.lastUsedAt.getTime() >= TOUCH_EVERY_MS) {
    // Conditional, so concurrent requests of one token write once.
    await db.apiToken.updateMany({
      where: {
        id: row.id,
        OR: [{ lastUsedAt: null }, { lastUsedAt: { lte: new Date(now.getTime() - TOUCH_EVERY_MS) } }],
      },
      data: { lastUsedAt: now, lastUsedFrom: request.clientAddress },
    });
  }

  const token: TokenCaller = {
    id: row.id,
    kind: row.kind.toLowerCase() as TokenKind,
    name: row.name,
    scopes: row.scopes.map((s) => s.toLowerCase() as TokenScope),
    workspaceId: row.workspaceId,
    role,
    pipelineId: row.pipelineId,
  };
  return {
    ok: true,
    token,
    session: {
      // Not a Session row: signing out is refused to tokens (tokenRule "session"), so nothing looks this up.
      sessionId: `api-token:${row.id}`,
      user: { id: creator.id, email: creator.email, name: creator.name },
      memberships: role ? [{ workspaceId: row.workspaceId, workspaceName: row.workspace.name, role }] : [],
    },
  };
}

/** The sentence of the 403 when `token` lacks `scope`; null when it has it. */
export function missingScope(token: Pick<TokenCaller, "scopes">, scope: TokenScope): string | null {
  if (token.scopes.includes(scope)) return null;
  const held = token.scopes.map((s) => `"${s}"`).join(", ");
  return `this needs an API token with the "${scope}" scope; this token has ${held || "none"}`;
}
