import { type ApiHarness, createApiHarness, startWatchedRun } from "@sluice/test-kit/api-harness";
import { TRPCError } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RECHECK_MS } from "../auth/live-access";

// A run's live view for someone without an account: the figures stream as the workspace's own members see them,
// and an open stream ends once its link is revoked, within RECHECK_MS — not only at the next reconnect.

let h: ApiHarness;
beforeAll(async () => {
  h = await createApiHarness("share-live");
});
afterAll(async () => {
  await h?.close();
});

describe("a shared live view", () => {
  it("streams the run's figures to anyone with the link, and ends when the link is revoked", async () => {
    const { cookie } = await h.signUp("Sharer");
    const { api } = await h.caller(cookie);
    const runId = await startWatchedRun(h, api, "shared", 7);
    const link = await api.shares.createRunLink({ runId, expiresInHours: 1 });
    const { api: anonymous } = await h.caller();
    const started = Date.now();
    const views: unknown[] = [];
    const error = await (async () => {
      try {
        for await (const view of await anonymous.shares.figures({ token: link.token })) {
          views.push(view);
          if (views.length === 2) await api.shares.revoke({ id: link.id });
          if (Date.now() - started > RECHECK_MS + 10_000) return new Error("still streaming");
        }
        return new Error("ended without an error");
      } catch (err) {
        return err as Error;
      }
    })();
    expect(JSON.stringify(views[0])).toContain('"out"');
    expect(error).toBeInstanceOf(TRPCError);
    expect((error as TRPCError).code).toBe("NOT_FOUND");
    expect(Date.now() - started).toBeLessThan(RECHECK_MS + 5_000);
    await api.runs.stop({ runId });
  }, 30_000);
});
