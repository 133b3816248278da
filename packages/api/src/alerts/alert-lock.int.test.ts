import { TestReceiver } from "@sluice/nodes/connectors/http/test-receiver";
import { emptyDefinition } from "@sluice/pipeline/definition";
import { type ApiHarness, createApiHarness } from "@sluice/test-kit/api-harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AlertLoopDeps, evaluateAlerts } from "./alert-loop";

// A pass that outlives its advisory lock: the lock's transaction is rolled back under it and the pass rejects, yet
// the transition it recorded still reaches the webhook, once, and the next pass does not send it again. A pass out
// of time budget stops before the runs it did not reach.

let h: ApiHarness;
let receiver: TestReceiver;

beforeAll(async () => {
  h = await createApiHarness("alert-lock");
  receiver = await TestReceiver.start();
});
afterAll(async () => {
  await receiver?.close();
  await h?.close();
});

/** A failed run of a new pipeline whose runFailed rule posts to the receiver at `path`. */
async function failedRun(name: string, path: string) {
  const { cookie } = await h.signUp(name);
  const { api } = await h.caller(cookie);
  await api.connections.create({ name: "hook", type: "webhook", config: { url: `${receiver.url}${path}` } });
  const def = emptyDefinition(name.toLowerCase());
  def.spec.nodes.push(
    { id: "gen", type: "source.generator", config: { count: 1 } },
    { id: "out", type: "sink.console", config: {} },
  );
  def.spec.edges.push({ from: "gen", to: "out" });
  def.spec.alerts = [{ id: "failed", when: "runFailed", severity: "critical", connection: "hook" }];
  const { id: pipelineId } = await api.pipelines.create({ name, definition: def });
  const version = await h.db.pipelineVersion.findFirstOrThrow({ where: { pipelineId }, select: { id: true } });
  const pipeline = await h.db.pipeline.findUniqueOrThrow({ where: { id: pipelineId } });
  return h.db.run.create({
    data: {
      workspaceId: pipeline.workspaceId,
      pipelineId,
      versionId: version.id,
      status: "FAILED",
      startedById: pipeline.createdById,
      startedAt: new Date(Date.now() - 60_000),
      finishedAt: new Date(),
      error: "node out could not start",
    },
  });
}

const deps = (): AlertLoopDeps => ({
  db: h.db,
  redis: h.redis,
  keys: h.deps.keys,
  destinations: h.deps.destinations,
  secretKey: h.deps.secretKey,
  webhookTimeoutMs: 2000,
});

describe("an alert pass and its advisory lock", () => {
  it("sends the webhook of a transition recorded after the lock expired exactly once", async () => {
    const run = await failedRun("Slow", "/slow");
    // Every figures read takes 400 ms, so the pass outlives a lock held for 300 ms.
    const slow = {
      hgetall: async (key: string) => {
        await new Promise((r) => setTimeout(r, 400));
        return h.redis.hgetall(key);
      },
    };
    await expect(evaluateAlerts({ ...deps(), redis: slow, lockHoldMs: 300 })).rejects.toThrow();
    const alert = () => h.db.alert.findUniqueOrThrow({ where: { runId_ruleId: { runId: run.id, ruleId: "failed" } } });
    expect((await alert()).state).toBe("firing");
    const posts = () => receiver.accepted.filter((r) => r.url === "/slow");
    expect(posts()).toHaveLength(1);
    expect(JSON.parse(posts()[0]!.body)).toMatchObject({ state: "firing", rule: "failed", runId: run.id });
    expect((await alert()).webhookPending).toBeNull();
    expect((await alert()).webhookError).toBeNull();

    // The next pass sees no change and owes nothing.
    await evaluateAlerts(deps());
    expect(posts()).toHaveLength(1);
    expect(await h.db.alertInboxEntry.count({ where: { alertId: (await alert()).id } })).toBe(1);
  }, 60_000);

  it("keeps a notice whose delivery failed for the next pass", async () => {
    const run = await failedRun("Flaky", "/flaky");
    let refused = 0;
    receiver.behaviour = (req) => {
      if (req.url !== "/flaky" || refused >= 3) return undefined;
      refused++;
      return { status: 503 };
    };
    expect(await evaluateAlerts(deps())).toBeGreaterThanOrEqual(1);
    const alert = () => h.db.alert.findUniqueOrThrow({ where: { runId_ruleId: { runId: run.id, ruleId: "failed" } } });
    expect(refused).toBe(3);
    expect((await alert()).webhookError).toBe("the webhook answered 503 Service Unavailable (3 attempts).");
    expect((await alert()).webhookPending).toHaveLength(1);

    await evaluateAlerts(deps());
    const posts = receiver.accepted.filter((r) => r.url === "/flaky");
    expect(posts).toHaveLength(1);
    expect(JSON.parse(posts[0]!.body)).toMatchObject({ state: "firing", rule: "failed", runId: run.id });
    expect((await alert()).webhookPending).toBeNull();
    expect((await alert()).webhookError).toBeNull();
    receiver.behaviour = () => undefined;
  }, 60_000);

  it("stops a pass out of time before the runs it did not reach", async () => {
    const run = await failedRun("Late", "/late");
    expect(await evaluateAlerts({ ...deps(), passBudgetMs: -1 })).toBe(0);
    expect(await h.db.alert.count({ where: { runId: run.id } })).toBe(0);
    expect(await evaluateAlerts(deps())).toBeGreaterThanOrEqual(1);
    expect(await h.db.alert.count({ where: { runId: run.id } })).toBe(1);
  }, 60_000);
});
