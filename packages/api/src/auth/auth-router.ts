import { limitCall } from "../limits/limit-call";
import { authedProcedure, createTRPCRouter, publicProcedure, withScope } from "../trpc";
import { Me, SignInInput, SignUpInput, SignUpResult } from "./auth-router.types";
import { signIn, signUp } from "./auth-service";
import { clearedSessionCookie, createSession, deleteSession, sessionCookie } from "./session";

export const authRouter = createTRPCRouter({
  /**
   * Makes an account, or quietly does nothing when the email already has one: the answer is the same either way (no
   * session either way), and the form signs in next with the same details. Limited per client address.
   */
  signUp: publicProcedure
    .input(SignUpInput)
    .output(SignUpResult)
    .mutation(async ({ ctx, input }) => {
      await limitCall(ctx, "signUpPerAddress", ctx.clientAddress);
      await signUp(ctx.db, input);
      return { ok: true as const, message: "your account is ready: sign in with this email and password" };
    }),
  /** Limited per client address and per email, both counted before the password is hashed. */
  signIn: publicProcedure.input(SignInInput).mutation(async ({ ctx, input }) => {
    await limitCall(ctx, "signInPerAddress", ctx.clientAddress);
    await limitCall(ctx, "signInPerEmail", input.email);
    const { userId } = await signIn(ctx.db, input);
    // The owner got in: their email's count of attempts starts again.
    await ctx.rateLimits?.reset("signInPerEmail", input.email).catch(() => {});
    const { token, expiresAt } = await createSession(ctx.db, userId, ctx.userAgent);
    ctx.resHeaders.append("set-cookie", sessionCookie(token, expiresAt, ctx.secureCookies));
    return { ok: true as const };
  }),
  signOut: authedProcedure.mutation(async ({ ctx }) => {
    await deleteSession(ctx.db, ctx.session.sessionId);
    ctx.resHeaders.append("set-cookie", clearedSessionCookie(ctx.secureCookies));
    return { ok: true as const };
  }),
  /**
   * The signed-in user, or null: lets pages decide between the app and the sign-in form without an error. With an API
   * token (scope `read`): the token's user and the one workspace it acts in.
   */
  me: withScope(publicProcedure, "read")
    .output(Me.nullable())
    .query(({ ctx }) => {
      if (!ctx.session) return null;
      return {
        user: ctx.session.user,
        workspaces: ctx.session.memberships.map((m) => ({ id: m.workspaceId, name: m.workspaceName, role: m.role })),
      };
    }),
});
