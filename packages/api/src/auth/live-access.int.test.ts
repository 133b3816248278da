import { type ApiHarness, createApiHarness, startWatchedRun } from "@sluice/test-kit/api-harness";
import { TRPCError } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRequestContext, WORKSPACE_HEADER } from "../context";
import { guardSubscription, RECHECK_MS } from "./live-access";

// An open subscription ends once its caller may no longer watch: removed from the workspace, signed out, or its API
// token revoked — not only at its next reconnect.

let h: ApiHarness;
beforeAll(async () => {
  h = await createApiHarness("live-access");
});
afterAll(async () => {
  await h?.close();
});

/** Numbers, one every 50 ms, for ever. */
async function* ticker(): AsyncGenerator<number> {
  for (let i = 0; ; i++) {
    await new Promise((r) => setTimeout(r, 50));
    yield i;
  }
}

/** Reads `stream` until it fails, doing `act` after a few items; the error it ended with. */
async function endsWith(stream: AsyncIterable<unknown>, act: () => Promise<unknown>): Promise<TRPCError> {
  let n = 0;
  try {
    for await (const _ of stream) {
      if (++n === 3) await act();
      if (n > 200) throw new Error("the stream went on after access was lost");
    }
  } catch (err) {
    if (err instanceof TRPCError) return err;
    throw err;
  }
  throw new Error("the stream ended without an error");
}

async function guarded(headers: Record<string, string>, workspaceId: string) {
  const ctx = await createRequestContext(
    h.deps,
    new Request("http://sluice.test/api/trpc", { headers }),
    new Headers(),
  );
  if (!ctx.session) throw new Error("not signed in");
  const result = await guardSubscription(
    { ctx: { ...ctx, session: ctx.session, workspaceId }, type: "subscription" },
    async () => ({ ok: true as const, data: ticker() }),
    200,
  );
  return (result as { data: AsyncIterable<number> }).data;
}

describe("open subscriptions", () => {
  it("end when the member is removed, naming why", async () => {
    const { cookie } = await h.signUp("Owner");
    const workspaceId = (await (await h.caller(cookie)).api.auth.me())!.workspaces[0]!.id;
    const { cookie: memberCookie } = await h.signUp("Watcher");
    const memberId = (await (await h.caller(memberCookie)).api.auth.me())!.user.id;
    await h.db.membership.create({ data: { userId: memberId, workspaceId, role: "VIEWER" } });
    const stream = await guarded({ cookie: memberCookie, [WORKSPACE_HEADER]: workspaceId }, workspaceId);
    const error = await endsWith(stream, () =>
      h.db.membership.delete({ where: { userId_workspaceId: { userId: memberId, workspaceId } } }),
    );
    expect(error.code).toBe("FORBIDDEN");
    expect(error.message).toMatch(/not a member of that workspace any more/);
  });

  it("end when the session is signed out", async () => {
    const { cookie } = await h.signUp("Leaver");
    const { api } = await h.caller(cookie);
    const workspaceId = (await api.auth.me())!.workspaces[0]!.id;
    const stream = await guarded({ cookie }, workspaceId);
    const error = await endsWith(stream, () => api.auth.signOut());
    expect(error.code).toBe("UNAUTHORIZED");
  });

  it("end when the API token is revoked", async () => {
    const { cookie } = await h.signUp("Revoker");
    const { api } = await h.caller(cookie);
    const workspaceId = (await api.auth.me())!.workspaces[0]!.id;
    const { secret, token } = await api.tokens.createPersonal({ name: "watch", scopes: ["read"], expiresInDays: 1 });
    const stream = await guarded({ authorization: `Bearer ${secret}` }, workspaceId);
    const error = await endsWith(stream, () => api.tokens.revokePersonal({ id: token.id }));
    expect(error.code).toBe("FORBIDDEN");
    expect(error.message).toMatch(/revoked/);
  });

  it("are guarded by the ladder: runs.figures ends for a member removed while watching", async () => {
    const { cookie } = await h.signUp("Runner");
    const { api } = await h.caller(cookie);
    const workspaceId = (await api.auth.me())!.workspaces[0]!.id;
    const runId = await startWatchedRun(h, api, "watched", 1);
    const { cookie: memberCookie } = await h.signUp("Onlooker");
    const memberId = (await (await h.caller(memberCookie)).api.auth.me())!.user.id;
    await h.db.membership.create({ data: { userId: memberId, workspaceId, role: "VIEWER" } });
    const watcher = (await h.caller(memberCookie, workspaceId)).api;
    const started = Date.now();
    let seen = 0;
    const error = await (async () => {
      try {
        for await (const _ of await watcher.runs.figures({ runId })) {
          if (++seen === 2)
            await h.db.membership.delete({ where: { userId_workspaceId: { userId: memberId, workspaceId } } });
          if (Date.now() - started > RECHECK_MS + 10_000) return new Error("still streaming");
        }
        return new Error("ended without an error");
      } catch (err) {
        return err as Error;
      }
    })();
    expect(error).toBeInstanceOf(TRPCError);
    expect((error as TRPCError).code).toBe("FORBIDDEN");
    expect(Date.now() - started).toBeLessThan(RECHECK_MS + 5_000);
  }, 30_000);
});
