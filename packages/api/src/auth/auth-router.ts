import { authedProcedure, createTRPCRouter, publicProcedure } from "../trpc";
import { Me, SignInInput, SignUpInput } from "./auth-router.types";
import { signIn, signUp } from "./auth-service";
import { clearedSessionCookie, createSession, deleteSession, sessionCookie } from "./session";

export const authRouter = createTRPCRouter({
  signUp: publicProcedure.input(SignUpInput).mutation(async ({ ctx, input }) => {
    const { userId } = await signUp(ctx.db, input);
    const { token, expiresAt } = await createSession(ctx.db, userId, ctx.userAgent);
    ctx.resHeaders.append("set-cookie", sessionCookie(token, expiresAt, ctx.secureCookies));
    return { ok: true as const };
  }),
  signIn: publicProcedure.input(SignInInput).mutation(async ({ ctx, input }) => {
    const { userId } = await signIn(ctx.db, input);
    const { token, expiresAt } = await createSession(ctx.db, userId, ctx.userAgent);
    ctx.resHeaders.append("set-cookie", sessionCookie(token, expiresAt, ctx.secureCookies));
    return { ok: true as const };
  }),
  signOut: authedProcedure.mutation(async ({ ctx }) => {
    await deleteSession(ctx.db, ctx.session.sessionId);
    ctx.resHeaders.append("set-cookie", clearedSessionCookie(ctx.secureCookies));
    return { ok: true as const };
  }),
  /** The signed-in user, or null: lets pages decide between the app and the sign-in form without an error. */
  me: publicProcedure.output(Me.nullable()).query(({ ctx }) => {
    if (!ctx.session) return null;
    return {
      user: ctx.session.user,
      workspaces: ctx.session.memberships.map((m) => ({ id: m.workspaceId, name: m.workspaceName, role: m.role })),
    };
  }),
});
