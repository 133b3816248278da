import type { Db } from "@sluice/db/client";
import type { ApiTokenKind, ApiTokenScope, Prisma, Role } from "@sluice/db/generated/prisma/client";
import { TRPCError } from "@trpc/server";
import type { TokenView } from "./token-router.types";
import type { TokenScope } from "./token-scopes";
import { newSecret } from "./token-secret";

// Making, listing and revoking API tokens. A token's secret leaves Sluice once, in the answer to the call that made
// it; lists show its prefix. Revoking stamps `revokedAt` (the row stays, so lists and the audit trail still name
// it), and the next request with the token is refused: nothing caches a token between requests.

const DAY_MS = 86_400_000;

/** Tokens a list shows at most, newest first. */
const LIST_LIMIT = 500;

const VIEW_SELECT = {
  id: true,
  kind: true,
  name: true,
  prefix: true,
  scopes: true,
  role: true,
  pipelineId: true,
  createdAt: true,
  createdBy: { select: { id: true, name: true } },
  expiresAt: true,
  revokedAt: true,
  lastUsedAt: true,
  lastUsedFrom: true,
} satisfies Prisma.ApiTokenSelect;

type TokenRow = Prisma.ApiTokenGetPayload<{ select: typeof VIEW_SELECT }>;

function view(row: TokenRow, now = Date.now()): TokenView {
  return {
    ...row,
    kind: row.kind.toLowerCase() as TokenView["kind"],
    scopes: row.scopes.map((s) => s.toLowerCase() as TokenScope),
    state: row.revokedAt ? "revoked" : row.expiresAt.getTime() <= now ? "expired" : "active",
  };
}

/** Which tokens a list or a revocation may reach: one kind in one workspace, narrowed to a creator or a pipeline. */
export interface TokenSet {
  workspaceId: string;
  kind: ApiTokenKind;
  /** Personal tokens: their creator (a member sees and revokes only their own). */
  createdById?: string;
  /** Ingest tokens: their pipeline. */
  pipelineId?: string;
}

export interface NewToken {
  workspaceId: string;
  kind: ApiTokenKind;
  createdById: string;
  name: string;
  scopes: readonly TokenScope[];
  expiresInDays: number;
  /** Workspace tokens only. */
  role?: Role;
  /** Ingest tokens only. */
  pipelineId?: string;
}

export async function createToken(db: Db, spec: NewToken): Promise<{ secret: string; token: TokenView }> {
  const { secret, hash, prefix } = newSecret();
  const row = await db.apiToken.create({
    data: {
      workspaceId: spec.workspaceId,
      kind: spec.kind,
      createdById: spec.createdById,
      name: spec.name,
      scopes: spec.scopes.map((s) => s.toUpperCase() as ApiTokenScope),
      role: spec.role ?? null,
      pipelineId: spec.pipelineId ?? null,
      prefix,
      secretHash: hash,
      expiresAt: new Date(Date.now() + spec.expiresInDays * DAY_MS),
    },
    select: VIEW_SELECT,
  });
  return { secret, token: view(row) };
}

export async function listTokens(db: Db, set: TokenSet): Promise<TokenView[]> {
  const rows = await db.apiToken.findMany({
    where: set,
    orderBy: [{ createdAt: "desc" }, { id: "asc" }],
    take: LIST_LIMIT,
    select: VIEW_SELECT,
  });
  const now = Date.now();
  return rows.map((row) => view(row, now));
}

/** Stops the token `id` of `set` at once; revoking it again keeps the first time. NOT_FOUND outside the set. */
export async function revokeToken(db: Db, set: TokenSet, id: string): Promise<TokenView> {
  const now = new Date();
  await db.apiToken.updateMany({ where: { ...set, id, revokedAt: null }, data: { revokedAt: now } });
  const row = await db.apiToken.findFirst({ where: { ...set, id }, select: VIEW_SELECT });
  if (!row) throw new TRPCError({ code: "NOT_FOUND", message: "no such token here" });
  return view(row, now.getTime());
}
