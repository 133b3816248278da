import { Prisma } from "@sluice/db/generated/prisma/client";
import { type Logger, processLogger } from "@sluice/log/logger";
import type { PipelineProblem } from "@sluice/pipeline/issues";
import { initTRPC, TRPCError } from "@trpc/server";
import superjson, { type SuperJSONResult } from "superjson";
import { z } from "zod";
import { auditCall } from "./audit/audit-trail";
import { guardSubscription } from "./auth/live-access";
import type { RequestContext } from "./context";
import { findInputProblem, type InputProblem, pathText } from "./input-guard";
import { limitCall } from "./limits/limit-call";
import { missingScope } from "./tokens/token-auth";
import { type TokenRule, tokenRule } from "./tokens/token-scopes";
import { type Role, roleAtLeast } from "./workspaces/roles";

// The procedure helpers every router builds on: a ladder public → signedIn → viewer (member) → editor → admin →
// owner, each rung declaring its rule in the procedure's meta (`access`), so every procedure carries the rule it is
// built with and the authorization matrix test (test/authorization.int.test.ts) can read it from appRouter. Everything
// beyond sign-up/sign-in goes through workspaceProcedure, which resolves the caller's membership (read from the
// database on every request, never kept in the session cookie): no procedure can read another workspace's rows. The
// docs/security.md role table is this ladder in words.

/** Who may call a procedure; one rule per procedure, set by the rung of the ladder it is built on. */
export type Access = "public" | "signedIn" | "viewer" | "editor" | "admin" | "owner";

interface ProcedureMeta {
  access: Access;
  /**
   * What an API token needs to call it, where that is not its type's default (tokens/token-scopes.ts): set with
   * `withScope`.
   */
  scope?: TokenRule;
}

/** What a user sees of a failure that is ours, not theirs; the details are logged under the same ref. */
const INTERNAL_MESSAGE = /^something went wrong on our side \(ref [0-9a-f]{8}\)$/;

function internalFailure(error: TRPCError, path: string | undefined, log: Logger): TRPCError {
  const ref = globalThis.crypto.randomUUID().slice(0, 8);
  log.error(`${path ?? "request"} failed`, { ref, err: error.cause ?? error });
  return new TRPCError({
    code: "INTERNAL_SERVER_ERROR",
    message: `something went wrong on our side (ref ${ref})`,
    cause: error.cause ?? error,
  });
}

/** An input problem (see input-guard.ts) as the 400 that names where it is. */
function inputRefusal(problem: InputProblem): TRPCError {
  return new TRPCError({
    code: "BAD_REQUEST",
    message: `${pathText(problem.path)}: ${problem.message}`,
    cause: new z.ZodError([{ code: "custom", path: problem.path, message: problem.message, input: undefined }]),
  });
}

/**
 * superjson on the wire: Dates (and Maps, Sets, bigints) arrive as what the router's types say they are. Its decoder
 * walks the input recursively, so input nested too deep for it is refused before it runs.
 */
const wire = {
  input: {
    serialize: (value: unknown) => superjson.serialize(value),
    deserialize: (payload: SuperJSONResult) => {
      const wrapped = payload as Partial<SuperJSONResult> | null;
      const problem = findInputProblem(wrapped?.json, undefined, false);
      if (problem) throw inputRefusal(problem);
      // superjson's own notes on the types it restored mirror the input's shape: held to the same depth.
      if (findInputProblem(wrapped?.meta, undefined, false))
        throw inputRefusal({ path: [], message: "the value is nested too deeply" });
      return superjson.deserialize(payload);
    },
  },
  output: superjson,
};

/**
 * The cause of a refusal that lists a pipeline's problems one by one (node, field, sentence), so a form can point at
 * each; the error formatter puts them in `data.problems`.
 */
export class ProblemList extends Error {
  constructor(readonly problems: readonly PipelineProblem[]) {
    super(`${problems.length} problem(s) in the pipeline`);
    this.name = "ProblemList";
  }
}

const t = initTRPC
  .context<RequestContext>()
  .meta<ProcedureMeta>()
  .create({
    transformer: wire,
    sse: { ping: { enabled: true, intervalMs: 5000 }, client: { reconnectAfterInactivityMs: 15_000 } },
    errorFormatter({ shape, error, path, ctx }) {
      const cause = error.cause;
      const fields =
        cause instanceof z.ZodError
          ? cause.issues.map((i) => ({ path: i.path.map(String).join("."), message: i.message }))
          : null;
      // Only what a ProblemList carries, rebuilt field by field: nothing else of the cause reaches the client.
      const problems =
        cause instanceof ProblemList
          ? cause.problems.map(({ nodeId, edgeIndex, path, message }) => ({ nodeId, edgeIndex, path, message }))
          : null;
      // Failures outside a procedure (the context, the transport) reach the client through here only.
      const message =
        error.code === "INTERNAL_SERVER_ERROR" && !INTERNAL_MESSAGE.test(error.message)
          ? internalFailure(error, path, ctx?.logger ?? processLogger()).message
          : shape.message;
      return { ...shape, message, data: { ...shape.data, fields, problems, stack: undefined } };
    },
  });

// --- Errors at the edge ------------------------------------------------------------------------------------------

interface PrismaErrorMeta {
  target?: unknown;
  column_name?: unknown;
  driverAdapterError?: { cause?: { constraint?: { fields?: unknown }; column?: unknown; originalCode?: unknown } };
}

/** The field a Prisma error names, the workspace key left out (it is never the caller's mistake). */
function prismaField(meta: PrismaErrorMeta | undefined): string | null {
  const candidates = [
    meta?.target,
    meta?.column_name,
    meta?.driverAdapterError?.cause?.constraint?.fields,
    meta?.driverAdapterError?.cause?.column,
  ];
  for (const candidate of candidates) {
    const names = (Array.isArray(candidate) ? candidate : [candidate]).filter(
      (n): n is string => typeof n === "string" && n !== "workspaceId",
    );
    const last = names.at(-1);
    if (last) return last.replace(/^"|"$/g, "");
  }
  return null;
}

/**
 * A database refusal that the caller's request caused, as the domain error it is; null for anything else. Services
 * handle the cases they expect themselves; this catches the ones they do not, so none surfaces as a 500 with
 * Prisma's text in it.
 */
function fromPrisma(err: unknown): TRPCError | null {
  if (!(err instanceof Prisma.PrismaClientKnownRequestError)) return null;
  const meta = err.meta as PrismaErrorMeta | undefined;
  const field = prismaField(meta);
  const at = field ? `${field}: ` : "";
  const sqlState = String(meta?.driverAdapterError?.cause?.originalCode ?? "");
  switch (err.code) {
    case "P2002":
      return new TRPCError({ code: "CONFLICT", message: `${at}this value is already taken in this workspace` });
    case "P2001":
    case "P2015":
    case "P2018":
    case "P2025":
      return new TRPCError({ code: "NOT_FOUND", message: "it does not exist in this workspace (any more)" });
    case "P2000":
      return new TRPCError({ code: "BAD_REQUEST", message: `${at}the value is too long` });
    case "P2003":
      return new TRPCError({
        code: "CONFLICT",
        message: "it is still in use, or refers to something that no longer exists",
      });
    case "P2034":
      return new TRPCError({ code: "CONFLICT", message: "someone changed it at the same moment; try again" });
    case "P2005":
    case "P2006":
    case "P2007":
    case "P2009":
    case "P2020":
    case "P2033":
      return new TRPCError({ code: "BAD_REQUEST", message: `${at}the value is out of range or not valid here` });
  }
  // SQLSTATE class 22 ("data exception"): a value PostgreSQL cannot take, whatever Prisma calls it.
  if (sqlState.startsWith("22")) {
    return new TRPCError({ code: "BAD_REQUEST", message: `${at}the value is out of range or not valid here` });
  }
  return null;
}

/**
 * The edge every procedure passes first. Before the procedure's schema: text PostgreSQL cannot store and values
 * nested too deep are refused, naming the field. After: schema failures become one sentence naming each field
 * ("password: use at least 10 characters"), database refusals the caller caused become 4xx domain errors, and
 * anything unexpected becomes a generic 500 with a reference whose details go to the log only.
 */
const edgeErrors = t.middleware(async ({ ctx, path, getRawInput, next }) => {
  const problem = findInputProblem(await getRawInput());
  if (problem) throw inputRefusal(problem);
  const result = await next();
  if (result.ok) return result;
  const error = result.error;
  if (error.code === "BAD_REQUEST" && error.cause instanceof z.ZodError) {
    const message = error.cause.issues.map((i) => `${pathText(i.path)}: ${i.message}`).join("; ");
    return { ...result, error: new TRPCError({ code: "BAD_REQUEST", message, cause: error.cause }) };
  }
  const domain = fromPrisma(error.cause);
  if (domain) return { ...result, error: domain };
  if (error.code === "INTERNAL_SERVER_ERROR" && !INTERNAL_MESSAGE.test(error.message)) {
    return { ...result, error: internalFailure(error, path, ctx.logger ?? processLogger()) };
  }
  return result;
});

// --- The ladder --------------------------------------------------------------------------------------------------

export const createTRPCRouter = t.router;
export const createCallerFactory = t.createCallerFactory;

/**
 * A call with an API token (`Authorization: Bearer`): a refused token is a 401 saying why; the procedure's token rule
 * (tokenRule in tokens/token-scopes.ts) must be among the token's scopes; and the call takes one point of the
 * token's rate limit. The role rules further up the ladder then apply to the role the token acts with. Calls without
 * a token pass untouched.
 */
const tokenGate = t.middleware(async ({ ctx, meta, type, next }) => {
  const bearer = ctx.bearer;
  if (!bearer) return next();
  if (!bearer.ok) throw new TRPCError({ code: "UNAUTHORIZED", message: bearer.reason });
  const rule = tokenRule(meta, type);
  if (rule === "session") {
    throw new TRPCError({
      code: "FORBIDDEN",
      message: "this cannot be done with an API token: sign in to Sluice and do it there",
    });
  }
  const missing = missingScope(bearer.token, rule);
  if (missing) throw new TRPCError({ code: "FORBIDDEN", message: missing });
  await limitCall(ctx, "apiPerToken", bearer.token.id);
  return next();
});

/** Anyone, signed in or not: sign-up, sign-in, "who am I". */
export const publicProcedure = t.procedure.meta({ access: "public" }).use(edgeErrors).use(tokenGate);

/**
 * The same rung with a token rule other than its type's default: `withScope(editorProcedure, "run")` for run
 * control, `withScope(…, "session")` for what no token may do (managing tokens themselves).
 */
export function withScope<B extends { _def: { meta?: ProcedureMeta }; meta(meta: ProcedureMeta): B }>(
  builder: B,
  scope: TokenRule,
): B {
  const meta = builder._def.meta;
  if (!meta) throw new Error("withScope needs a rung of the ladder, which carries its access rule");
  return builder.meta({ ...meta, scope });
}

/** Any signed-in user, whatever their workspaces. */
export const authedProcedure = publicProcedure.meta({ access: "signedIn" }).use(({ ctx, next }) => {
  if (!ctx.session) throw new TRPCError({ code: "UNAUTHORIZED", message: "sign in first" });
  return next({ ctx: { ...ctx, session: ctx.session } });
});

/**
 * A member of the workspace the request addresses, in any role: reading what the workspace holds. Every change made
 * through this rung or those above it is written to the workspace's audit log (audit/audit-trail.ts); a subscription
 * keeps checking that its caller may still watch (auth/live-access.ts).
 */
export const workspaceProcedure = authedProcedure
  .meta({ access: "viewer" })
  .use(({ ctx, next }) => {
    const memberships = ctx.session.memberships;
    const wanted = ctx.requestedWorkspaceId;
    const membership = wanted ? memberships.find((m) => m.workspaceId === wanted) : memberships[0];
    if (!membership) {
      throw new TRPCError({
        code: wanted ? "FORBIDDEN" : "PRECONDITION_FAILED",
        message: wanted ? "you are not a member of that workspace" : "you belong to no workspace",
      });
    }
    return next({ ctx: { ...ctx, workspaceId: membership.workspaceId, role: membership.role as Role } });
  })
  .use(({ ctx, path, type, getRawInput, next }) => auditCall({ ctx, path, type, getRawInput }, next))
  .use(({ ctx, type, next }) => guardSubscription({ ctx, type }, next));

/**
 * Editors and above: changing the workspace, and anything that opens a connection to a live system (Test,
 * discovery, preview) — a viewer reads what Sluice stored, it does not query the systems behind the connections.
 */
export const editorProcedure = workspaceProcedure.meta({ access: "editor" }).use(({ ctx, meta, next }) => {
  // The procedure's own rule names the role a refusal asks for: a viewer calling an admin procedure is told admin.
  refuseBelow(ctx.role, meta?.access === "owner" ? "OWNER" : meta?.access === "admin" ? "ADMIN" : "EDITOR");
  return next();
});

/**
 * Admins and owners: the workspace's members, invitations and name, and its connections (the credentials to other
 * systems that editors use in pipelines but do not hold). Which roles an admin may grant is the services' check.
 */
export const adminProcedure = editorProcedure.meta({ access: "admin" }).use(({ ctx, next }) => {
  refuseBelow(ctx.role, "ADMIN");
  return next();
});

/** Owners only: deleting the workspace and handing it over. */
export const ownerProcedure = adminProcedure.meta({ access: "owner" }).use(({ ctx, next }) => {
  refuseBelow(ctx.role, "OWNER");
  return next();
});

function refuseBelow(role: Role, needed: Role): void {
  if (roleAtLeast(role, needed)) return;
  throw new TRPCError({
    code: "FORBIDDEN",
    message: `this needs the ${needed.toLowerCase()} role in this workspace; yours is ${role.toLowerCase()}`,
  });
}
