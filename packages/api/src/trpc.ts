import { initTRPC, TRPCError } from "@trpc/server";
import { z } from "zod";
import type { RequestContext } from "./context";

// The procedure helpers every router builds on. Everything beyond sign-up/sign-in goes through
// workspaceProcedure, which resolves the caller's membership: no procedure can read another workspace's rows.

const t = initTRPC.context<RequestContext>().create({
  sse: { ping: { enabled: true, intervalMs: 5000 }, client: { reconnectAfterInactivityMs: 15_000 } },
  errorFormatter({ shape, error }) {
    const cause = error.cause;
    const fields =
      cause instanceof z.ZodError
        ? cause.issues.map((i) => ({ path: i.path.map(String).join("."), message: i.message }))
        : null;
    return { ...shape, data: { ...shape.data, fields, stack: undefined } };
  },
});

/**
 * Input that fails its schema becomes one readable sentence naming each field ("password: use at least 10
 * characters"), for HTTP clients and in-process callers alike; the zod issues stay available as the cause.
 */
const readableInputErrors = t.middleware(async ({ next }) => {
  const result = await next();
  if (!result.ok && result.error.code === "BAD_REQUEST" && result.error.cause instanceof z.ZodError) {
    const message = result.error.cause.issues
      .map((i) => `${i.path.length > 0 ? i.path.map(String).join(".") : "input"}: ${i.message}`)
      .join("; ");
    return { ...result, error: new TRPCError({ code: "BAD_REQUEST", message, cause: result.error.cause }) };
  }
  return result;
});

export const createTRPCRouter = t.router;
export const createCallerFactory = t.createCallerFactory;
export const publicProcedure = t.procedure.use(readableInputErrors);

export const authedProcedure = publicProcedure.use(({ ctx, next }) => {
  if (!ctx.session) throw new TRPCError({ code: "UNAUTHORIZED", message: "sign in first" });
  return next({ ctx: { ...ctx, session: ctx.session } });
});

const ROLE_RANK = { VIEWER: 0, EDITOR: 1, ADMIN: 2, OWNER: 3 } as const;
export type Role = keyof typeof ROLE_RANK;

export const workspaceProcedure = authedProcedure.use(({ ctx, next }) => {
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
});

/** Workspace procedures that change something: viewers may look but not touch. */
export const editorProcedure = workspaceProcedure.use(({ ctx, next }) => {
  if (ROLE_RANK[ctx.role] < ROLE_RANK.EDITOR) {
    throw new TRPCError({ code: "FORBIDDEN", message: "viewers cannot change this workspace" });
  }
  return next();
});
