import { z } from "zod";
import { TOKEN_SCOPES } from "./token-scopes";

/** The longest a token may live; every token has an expiry. */
const MAX_TOKEN_DAYS = 365;

export const TokenId = z.string().min(1).max(64);

export const TokenName = z.string().trim().min(1, "name the token, e.g. after what uses it").max(100);

export const ExpiresInDays = z
  .number()
  .int("a whole number of days")
  .min(1, "at least 1 day")
  .max(MAX_TOKEN_DAYS, `at most ${MAX_TOKEN_DAYS} days: every token expires`);

const Scopes = z
  .array(z.enum(TOKEN_SCOPES))
  .min(1, "choose at least one scope")
  .max(TOKEN_SCOPES.length)
  .transform((scopes) => TOKEN_SCOPES.filter((s) => scopes.includes(s)));

export const CreatePersonalTokenInput = z.strictObject({
  name: TokenName,
  scopes: Scopes,
  expiresInDays: ExpiresInDays,
});

export const CreateWorkspaceTokenInput = CreatePersonalTokenInput.extend({
  /** What the token may do, whoever made it; never owner, never above its creator's role. */
  role: z.enum(["VIEWER", "EDITOR", "ADMIN"]),
});

export const TokenIdInput = z.strictObject({ id: TokenId });

export const TokenView = z.object({
  id: z.string(),
  kind: z.enum(["personal", "workspace", "ingest"]),
  name: z.string(),
  /** The secret's first characters, to tell it apart: never the secret. */
  prefix: z.string(),
  scopes: z.array(z.enum(TOKEN_SCOPES)),
  /** A workspace token's role; null for the other kinds. */
  role: z.enum(["VIEWER", "EDITOR", "ADMIN", "OWNER"]).nullable(),
  /** An ingest token's pipeline; null for the other kinds. */
  pipelineId: z.string().nullable(),
  createdAt: z.date(),
  createdBy: z.object({ id: z.string(), name: z.string() }),
  expiresAt: z.date(),
  revokedAt: z.date().nullable(),
  lastUsedAt: z.date().nullable(),
  lastUsedFrom: z.string().nullable(),
  state: z.enum(["active", "revoked", "expired"]),
});
export type TokenView = z.infer<typeof TokenView>;

/** A token just made: its secret, shown this once (Sluice keeps only its SHA-256), and its entry in lists. */
export const CreatedTokenView = z.object({ secret: z.string(), token: TokenView });
