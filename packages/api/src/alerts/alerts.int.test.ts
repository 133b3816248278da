import { catalog } from "@sluice/nodes/catalog";
import { TestReceiver } from "@sluice/nodes/connectors/http/test-receiver";
import { runtimes } from "@sluice/nodes/runtimes";
import { emptyDefinition } from "@sluice/pipeline/definition";
import { writePipelineText } from "@sluice/pipeline/file-format";
import { type ApiHarness, createApiHarness } from "@sluice/test-kit/api-harness";
import { FleetHarness, waitFor } from "@sluice/test-kit/fleet-harness";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { reconcileRuns } from "../runs/run-reconciler";
import { type AlertLoopDeps, evaluateAlerts } from "./alert-loop";

// Alerts of a real run: a Redis Streams source the test feeds by hand, so its data can stop and flow again. Its
// "no data for 3 s" rule fires (state, inbox entry, webhook POST to a local receiver) and recovers; a silence keeps
// the next firing out of the inbox and off the webhook while the alert's own state still changes. Rules name a
// webhook connection, whose URL (it carries a token) no definition, export or response holds.

const REDIS_BASE = process.env.SLUICE_TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
/** Not Sluice's own database number: the destination policy refuses that one to connections. */
const SOURCE_DB = 7;

let fleet: FleetHarness;
let h: ApiHarness;
let receiver: TestReceiver;
let source: Redis;

beforeAll(async () => {
  fleet = new FleetHarness();
  h = await createApiHarness("alerts", { prefix: fleet.prefix, secretKey: fleet.secretKey });
  receiver = await TestReceiver.start();
  source = new Redis(`${REDIS_BASE}/${SOURCE_DB}`, { maxRetriesPerRequest: null });
});
afterAll(async () => {
  source?.disconnect();
  await receiver?.close();
  await fleet?.close();
  await h?.close();
});

describe("a noData alert on a real run", () => {
  it("fires when the source stops, recovers when data flows again, and a silence keeps it quiet", async () => {
    const stream = `${fleet.prefix}:alerts-events`;
    await fleet.startInProcess("alerts-w1", catalog, runtimes);
    const { cookie } = await h.signUp("Watcher");
    const { api } = await h.caller(cookie);
    await api.connections.create({ name: "events", type: "redis", config: { url: `${REDIS_BASE}/${SOURCE_DB}` } });
    const def = emptyDefinition("alerts-real");
    def.spec.settings.parallelism = 1;
    def.spec.nodes.push(
      { id: "events", type: "source.redis-stream", config: { connection: "events", stream } },
      { id: "out", type: "sink.console", config: {} },
    );
    def.spec.edges.push({ from: "events", to: "out" });
    const { id: hookId } = await api.connections.create({
      name: "hook",
      type: "webhook",
      config: { url: `${receiver.url}/hook/T0K3N` },
    });
    // Its Test resolves and checks the host, and posts nothing to the channel.
    const tested = await api.connections.test({ id: hookId });
    expect(tested).toMatchObject({ ok: true, problem: null });
    expect(tested.message).toMatch(
      /^127\.0\.0\.1:\d+ resolves to 127\.0\.0\.1 and may be sent to \(nothing was posted\)$/,
    );
    expect(receiver.accepted).toHaveLength(0);
    def.spec.alerts = [{ id: "quiet", when: "noData", duration: "3s", severity: "critical", connection: "hook" }];
    const { id: pipelineId } = await api.pipelines.create({ name: "Alerts real", definition: def });

    const { id: runId } = await api.runs.start({ pipelineId });

    const deps: AlertLoopDeps = {
      db: h.db,
      redis: h.redis,
      keys: h.deps.keys,
      destinations: h.deps.destinations,
      secretKey: fleet.secretKey,
      webhookTimeoutMs: 2000,
    };
    const alert = () => h.db.alert.findUnique({ where: { runId_ruleId: { runId, ruleId: "quiet" } } });
    /** One evaluator pass after the reconciler has copied the run's status into PostgreSQL, as the web process does. */
    const pass = async () => {
      await reconcileRuns({ db: h.db, redis: h.redis, keys: h.deps.keys });
      await evaluateAlerts(deps);
      return alert();
    };
    let sent = 0;
    const feed = async () => {
      await source.xadd(stream, "*", "data", JSON.stringify({ n: sent++ }));
    };
    /** Feeds a record every 200 ms while evaluating, until `state` is reached. */
    const feedUntil = async (state: string) => {
      await waitFor(
        async () => {
          for (let i = 0; i < 5; i++) {
            await feed();
            await new Promise((r) => setTimeout(r, 200));
          }
          return (await pass())?.state === state ? true : undefined;
        },
        60_000,
        () => `for the alert to be ${state} while data flows`,
      );
    };
    const quietUntil = (state: string) =>
      waitFor(
        async () => {
          await new Promise((r) => setTimeout(r, 500));
          return (await pass())?.state === state ? true : undefined;
        },
        30_000,
        () => `for the alert to be ${state} without data`,
      );

    // Data flows: the rule is evaluated and holds.
    await waitFor(
      async () => {
        await feed();
        const a = await pass();
        return a?.lastActiveAt ? a : undefined;
      },
      60_000,
      () => "for the run to put out records",
    );
    expect((await alert())?.state).toBe("quiet");
    expect(await h.db.alertInboxEntry.count({ where: { alertId: (await alert())!.id } })).toBe(0);

    // The source stops: the alert fires, reaches the inbox and the webhook.
    await quietUntil("firing");
    const fired = (await alert())!;
    expect(fired.lastValue).toBeGreaterThanOrEqual(3000);
    expect(fired.summary).toMatch(/^The pipeline's sinks have not put out records for \d+s \(the rule allows 3s\)\.$/);
    const { entries, unread } = await api.alerts.inbox();
    expect(unread).toBe(1);
    expect(entries[0]).toMatchObject({ alertId: fired.id, runId, pipelineId, state: "firing", severity: "critical" });
    expect(entries[0]!.text).toContain('[critical] Alert "quiet" is firing on pipeline "Alerts real"');
    await waitFor(
      async () => (receiver.accepted.length >= 1 ? true : undefined),
      10_000,
      () => "for the webhook POST",
    );
    const post = receiver.accepted[0]!;
    expect(post.method).toBe("POST");
    expect(post.url).toBe("/hook/T0K3N");
    expect(JSON.parse(post.body)).toMatchObject({
      text: entries[0]!.text,
      state: "firing",
      severity: "critical",
      pipeline: "Alerts real",
      pipelineId,
      runId,
      rule: "quiet",
      node: null,
    });
    const listed = await api.alerts.list({ state: "firing" });
    expect(listed.alerts.map((a) => [a.ruleId, a.runId, a.state])).toEqual([["quiet", runId, "firing"]]);
    expect((await h.db.alert.findUniqueOrThrow({ where: { id: fired.id } })).webhookError).toBeNull();

    // Data flows again: it recovers, once more through the inbox and the webhook.
    await feedUntil("recovered");
    expect((await api.alerts.inbox()).entries.map((e) => e.state)).toEqual(["recovered", "firing"]);
    await waitFor(
      async () => (receiver.accepted.length >= 2 ? true : undefined),
      10_000,
      () => "for the recovery's webhook POST",
    );
    expect(JSON.parse(receiver.accepted[1]!.body)).toMatchObject({ state: "recovered", rule: "quiet" });
    expect(await api.alerts.markRead({ all: true })).toEqual({ marked: 2 });
    expect((await api.alerts.inbox()).unread).toBe(0);

    // Silenced, it still fires, but tells nobody.
    const silence = await api.alerts.silence({ pipelineId, ruleId: "quiet", forMs: 600_000 });
    expect(silence).toMatchObject({ pipelineId, ruleId: "quiet" });
    await quietUntil("firing");
    const silenced = (await api.alerts.list({ pipelineId })).alerts[0]!;
    expect(silenced.transitions.map((t) => t.state)).toEqual(["firing", "recovered", "firing"]);
    expect(silenced.silencedUntil).toBe(silence.until);
    expect((await api.alerts.inbox()).entries).toHaveLength(2);
    // evaluateAlerts returns after its webhooks: none went out.
    expect(receiver.accepted).toHaveLength(2);

    await api.alerts.unsilence({ id: silence.id });
    await api.runs.stop({ runId });

    // Neither a viewer's view of the pipeline, its export, nor the connection itself gives the token away.
    const me = await api.auth.me();
    await h.db.membership.updateMany({ where: { userId: me!.user.id }, data: { role: "VIEWER" } });
    const viewer = (await h.caller(cookie)).api;
    const seen = await viewer.pipelines.get({ id: pipelineId });
    expect(seen.version.definition.spec.alerts?.[0]?.connection).toBe("hook");
    expect(JSON.stringify(seen)).not.toContain("T0K3N");
    expect(writePipelineText(seen.version.definition, "yaml")).not.toContain("T0K3N");
    const hook = await viewer.connections.get({ id: hookId });
    expect(hook.type).toBe("webhook");
    expect(JSON.stringify(hook)).not.toContain(receiver.url);
    expect(JSON.stringify(await viewer.connections.list())).not.toContain("T0K3N");
  }, 180_000);

  it("records a webhook that cannot be delivered, or whose connection is gone, on the alert, and refuses a silence for a rule the pipeline lacks", async () => {
    const { cookie } = await h.signUp("Failer");
    const { api } = await h.caller(cookie);
    const def = emptyDefinition("alerts-fail");
    def.spec.nodes.push(
      { id: "gen", type: "source.generator", config: { count: 1 } },
      { id: "out", type: "sink.console", config: {} },
    );
    def.spec.edges.push({ from: "gen", to: "out" });
    await api.connections.create({ name: "down", type: "webhook", config: { url: `${receiver.url}/down` } });
    await api.connections.create({ name: "gone-hook", type: "webhook", config: { url: `${receiver.url}/gone` } });
    def.spec.alerts = [
      { id: "failed", when: "runFailed", severity: "warning", connection: "down" },
      { id: "failed-too", when: "runFailed", severity: "info", connection: "gone-hook" },
    ];
    const { id: pipelineId } = await api.pipelines.create({ name: "Alerts fail", definition: def });
    await expect(api.alerts.silence({ pipelineId, ruleId: "other", forMs: 60_000 })).rejects.toThrow(
      'Rule: pipeline "Alerts fail" has no alert rule "other" in its latest version.',
    );

    // A failed run of this pipeline, as the reconciler leaves one in PostgreSQL.
    const version = await h.db.pipelineVersion.findFirstOrThrow({ where: { pipelineId }, select: { id: true } });
    const pipeline = await h.db.pipeline.findUniqueOrThrow({ where: { id: pipelineId } });
    // Deleted behind the version's back (as an older version may name a connection deleted since).
    await h.db.connection.delete({
      where: { workspaceId_name: { workspaceId: pipeline.workspaceId, name: "gone-hook" } },
    });
    const run = await h.db.run.create({
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
    let refused = 0;
    receiver.behaviour = (req) => {
      if (req.url !== "/down") return undefined;
      refused++;
      return { status: 503 };
    };
    await evaluateAlerts({
      db: h.db,
      redis: h.redis,
      keys: h.deps.keys,
      destinations: h.deps.destinations,
      secretKey: fleet.secretKey,
      webhookTimeoutMs: 1000,
    });
    const a = await h.db.alert.findUniqueOrThrow({ where: { runId_ruleId: { runId: run.id, ruleId: "failed" } } });
    expect(a.state).toBe("firing");
    expect(a.summary).toBe("The run failed: node out could not start.");
    expect(a.webhookError).toBe("the webhook answered 503 Service Unavailable (3 attempts).");
    expect(refused).toBe(3);
    const gone = await h.db.alert.findUniqueOrThrow({
      where: { runId_ruleId: { runId: run.id, ruleId: "failed-too" } },
    });
    expect(gone.state).toBe("firing");
    expect(gone.webhookError).toBe("The webhook connection “gone-hook” does not exist any more.");
    receiver.behaviour = () => undefined;
  }, 60_000);
});
