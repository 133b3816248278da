// What an API token may be used for, and which scope each procedure needs: the one place that maps scopes to
// procedures. A Bearer call passes when the procedure's role rule (meta.access, trpc.ts) holds for the token's role
// AND the procedure's token rule below is among the token's scopes. The authorization matrix test reads the rule of
// every procedure through `tokenRule` and calls each with and without its scope.

export const TOKEN_SCOPES = ["read", "write", "run", "ingest"] as const;
export type TokenScope = (typeof TOKEN_SCOPES)[number];

/** A procedure's token rule: the scope a token needs to call it, or "session": no token may (sign in instead). */
export type TokenRule = TokenScope | "session";

/** What each scope lets a token do, in the words the token page and the docs use. */
export const SCOPE_MEANING: Record<TokenScope, string> = {
  read: "read everything the role may read, and watch runs",
  write: "create, change and delete what the role may change",
  run: "start, stop, pause, resume and restart runs, fire schedules and run reports now",
  ingest: "post records to webhook ingest URLs",
};

/**
 * The token rule of a procedure: the one its meta sets (`scope`, via `withScope` in trpc.ts), else
 * - "session" for public and signed-in-only procedures (they act on an account, not within the one workspace a token
 *   is bound to: signing in or out, making workspaces, accepting invitations) and for owner-only ones (deleting or
 *   handing over a workspace is never left to a token);
 * - "write" for mutations, "read" for queries and subscriptions.
 */
export function tokenRule(
  meta: { access?: string; scope?: TokenRule } | undefined,
  type: "query" | "mutation" | "subscription",
): TokenRule {
  if (meta?.scope) return meta.scope;
  if (meta?.access === "public" || meta?.access === "signedIn" || meta?.access === "owner") return "session";
  return type === "mutation" ? "write" : "read";
}
