import type { ApiDeps } from "@sluice/api/context";
import { MAX_SCRAPED_RUNS } from "@sluice/api/fleet/fleet-metrics";
import { liveNodeFigures, liveSecond } from "@sluice/api/runs/node-figures";
import { reconcileRuns } from "@sluice/api/runs/run-reconciler";
import { catalog } from "@sluice/nodes/catalog";
import { runtimes } from "@sluice/nodes/runtimes";
import { readRunSnapshot } from "@sluice/pipeline/control/run-reader";
import { emptyDefinition } from "@sluice/pipeline/definition";
import { type ApiHarness, createApiHarness } from "@sluice/test-kit/api-harness";
import { FleetHarness, waitFor } from "@sluice/test-kit/fleet-harness";
import { Redis } from "ioredis";
import parsePrometheusTextFormat, { type ParsedFamily } from "parse-prometheus-text-format";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMetricsHandler } from "./metrics-handler";

// GET /api/metrics served by the handler the route binds, against a real worker, Postgres and Redis: the answer is
// valid Prometheus text (read back with a parser of the format), its figures are the ones fleet.list and the run's
// snapshot give, and it opens only for the token.

const TOKEN = "metrics-test-token-0123456789abcdef";

let fleet: FleetHarness;
let h: ApiHarness;

beforeAll(async () => {
  fleet = new FleetHarness();
  h = await createApiHarness("metrics", { prefix: fleet.prefix, secretKey: fleet.secretKey });
});
afterAll(async () => {
  await fleet?.close();
  await h?.close();
});

function scrapeRequest(authorization?: string): Request {
  return new Request("http://sluice.test/api/metrics", {
    headers: authorization ? { authorization } : {},
  });
}

/** A fresh handler (its registry reads anew, nothing reused from an earlier scrape) and its parsed answer. */
async function scrape(): Promise<{ families: Map<string, ParsedFamily>; text: string }> {
  const deps: ApiDeps = { ...h.deps };
  const response = await createMetricsHandler(
    () => deps,
    () => TOKEN,
  )(scrapeRequest(`Bearer ${TOKEN}`));
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  const text = await response.text();
  return { families: new Map(parsePrometheusTextFormat(text).map((f) => [f.name, f])), text };
}

/** The value of the sample of `name` whose labels include `labels`; undefined when there is none. */
function sample(families: Map<string, ParsedFamily>, name: string, labels: Record<string, string> = {}) {
  const found = families.get(name)?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
  return found?.value === undefined ? undefined : Number(found.value);
}

function endless() {
  const def = emptyDefinition("metrics-endless");
  def.spec.settings.parallelism = 2;
  def.spec.nodes.push(
    { id: "gen", type: "source.generator", config: { rate: 50 } },
    { id: "out", type: "sink.console", config: {} },
  );
  def.spec.edges.push({ from: "gen", to: "out" });
  return def;
}

/** A keyed window after the source: a shuffle edge into a stateful node. */
function windowed() {
  const def = emptyDefinition("metrics-windowed");
  def.spec.settings.parallelism = 2;
  def.spec.nodes.push(
    { id: "gen", type: "source.generator", config: { rate: 200 } },
    {
      id: "win",
      type: "transform.window",
      config: { key: ["country"], window: { tumble: "1m" }, aggregates: { n: "count(*)" } },
    },
    { id: "out", type: "sink.console", config: {} },
  );
  def.spec.edges.push({ from: "gen", to: "win" }, { from: "win", to: "out" });
  return def;
}

describe("GET /api/metrics", () => {
  it("is off without SLUICE_METRICS_TOKEN, saying how to turn it on", async () => {
    const response = await createMetricsHandler(
      () => h.deps,
      () => undefined,
    )(scrapeRequest(`Bearer ${TOKEN}`));
    expect(response.status).toBe(404);
    expect(await response.text()).toMatch(/^The metrics endpoint is off: set SLUICE_METRICS_TOKEN/);
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
  });

  it("answers 401 without the token or with another one", async () => {
    const handle = createMetricsHandler(
      () => h.deps,
      () => TOKEN,
    );
    for (const authorization of [undefined, `Bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(0, -1)}`, `Basic ${TOKEN}`]) {
      const response = await handle(scrapeRequest(authorization));
      expect(response.status, String(authorization)).toBe(401);
      expect(response.headers.get("www-authenticate")).toBe('Bearer realm="sluice-metrics"');
      const body = await response.text();
      expect(body).toMatch(/needs the token set in SLUICE_METRICS_TOKEN/);
      expect(body).not.toContain(TOKEN.slice(0, 12));
    }
  });

  it("gives the fleet's and a live run's figures, the same as fleet.list and the run's snapshot", async () => {
    const { cookie } = await h.signUp("Scraper");
    const { api } = await h.caller(cookie);
    const worker = await fleet.startInProcess("metrics-w1", catalog, runtimes);
    const { id: pipelineId } = await api.pipelines.create({ name: "Metrics endless", definition: endless() });
    const { id: runId } = await api.runs.start({ pipelineId });
    await waitFor(
      async () => ((await readRunSnapshot(h.redis, h.deps.keys, runId))?.nodes.out?.in ?? 0) > 0,
      30_000,
      () => "waiting for records to reach the sink",
    );
    // Paused, its counters hold still, so the snapshot and the scrape can be compared exactly.
    await api.runs.pause({ runId });
    await fleet.waitForStatus(runId, "paused");
    await reconcileRuns({ db: h.db, redis: h.redis, keys: h.deps.keys });
    expect((await api.runs.get({ runId })).status).toBe("PAUSED");

    // Read fleet.list and the snapshot, scrape, read both again: when nothing moved in between (no heartbeat, no
    // batch still committing as the pause takes hold), the figures must match exactly.
    const { view, snapshot, families, text } = await waitFor(
      async () => {
        const before = await api.fleet.list();
        const snapshotBefore = await readRunSnapshot(h.redis, h.deps.keys, runId);
        const scraped = await scrape();
        const snapshotAfter = await readRunSnapshot(h.redis, h.deps.keys, runId);
        const after = await api.fleet.list();
        const still =
          before.workers[0]?.seenAt === after.workers[0]?.seenAt &&
          JSON.stringify(snapshotBefore?.nodes) === JSON.stringify(snapshotAfter?.nodes);
        return still && before.workers[0]?.alive ? { view: before, snapshot: snapshotBefore, ...scraped } : undefined;
      },
      15_000,
      () => "waiting for a scrape between two heartbeats",
    );
    const listed = view.workers[0] as NonNullable<(typeof view.workers)[number]>;
    const at = { worker: "metrics-w1", host: listed.host ?? "" };
    expect(sample(families, "sluice_workers", { state: "alive" })).toBe(1);
    expect(sample(families, "sluice_workers", { state: "dead" })).toBe(0);
    expect(sample(families, "sluice_worker_cpu_cores", at)).toBe(listed.cpuCores);
    expect(sample(families, "sluice_worker_memory_bytes", { ...at, kind: "rss" })).toBe(listed.rssBytes);
    expect(sample(families, "sluice_worker_memory_bytes", { ...at, kind: "heap_used" })).toBe(listed.heapUsedBytes);
    // A paused run's partitions wait in the queue: whatever the worker holds, both say the same.
    expect(sample(families, "sluice_worker_partitions", at)).toBe(listed.partitions.length);
    for (const q of view.queues) {
      for (const state of ["waiting", "active", "delayed", "failed"] as const) {
        expect(sample(families, "sluice_queue_jobs", { queue: q.queue, state }), `${q.queue} ${state}`).toBe(q[state]);
      }
    }
    expect(families.get("sluice_queue_jobs")?.type).toBe("GAUGE");

    expect(snapshot?.status).toBe("paused");
    const records = families.get("sluice_node_records_total");
    expect(records?.type).toBe("COUNTER");
    for (const [node, counters] of Object.entries(snapshot?.nodes ?? {})) {
      const labels = { pipeline: pipelineId, run: runId, node };
      expect(sample(families, "sluice_node_records_total", { ...labels, direction: "in" })).toBe(counters.in);
      expect(sample(families, "sluice_node_records_total", { ...labels, direction: "out" })).toBe(counters.out);
      expect(sample(families, "sluice_node_records_total", { ...labels, direction: "error" })).toBe(counters.errors);
    }
    expect(
      sample(families, "sluice_node_records_total", { run: runId, node: "gen", direction: "out" }),
    ).toBeGreaterThan(0);
    expect(snapshot?.watermark).toBeGreaterThan(0);
    expect(sample(families, "sluice_run_watermark_seconds", { run: runId })).toBe((snapshot?.watermark ?? 0) / 1000);

    const byStatus = await h.db.run.groupBy({ by: ["status"], _count: { _all: true } });
    for (const status of ["queued", "running", "paused", "stopping", "completed", "stopped", "failed"]) {
      const expected = byStatus.find((g) => g.status.toLowerCase() === status)?._count._all ?? 0;
      expect(sample(families, "sluice_runs", { status }), status).toBe(expected);
    }
    expect(sample(families, "sluice_runs", { status: "paused" })).toBe(1);
    expect(sample(families, "sluice_metrics_runs_skipped")).toBe(0);
    expect(families.get("sluice_metrics_runs_skipped")?.help).toContain(String(MAX_SCRAPED_RUNS));
    // Nothing secret rides along: the key that seals the run's connections appears nowhere.
    expect(text).not.toContain(Buffer.from(fleet.secretKey).toString("hex"));

    // Once the worker stops, it counts as dead and its process figures are gone.
    await api.runs.stop({ runId });
    await worker.close();
    const { families: after } = await scrape();
    expect(sample(after, "sluice_workers", { state: "alive" })).toBe(0);
    expect(sample(after, "sluice_workers", { state: "dead" })).toBe(1);
    expect(sample(after, "sluice_worker_cpu_cores", at)).toBeUndefined();
  });

  it("gives each node's batch latency, state keys and input lag and each shuffle edge's backlog, as the canvas does", async () => {
    const { cookie } = await h.signUp("Overlay");
    const { api } = await h.caller(cookie);
    const worker = await fleet.startInProcess("metrics-w3", catalog, runtimes);
    const edge = "gen.out->win.in";
    try {
      const { id: pipelineId } = await api.pipelines.create({ name: "Metrics windowed", definition: windowed() });
      const { id: runId } = await api.runs.start({ pipelineId });
      // A scrape covers the runs PostgreSQL lists as live: the reconciler records that this one runs.
      await fleet.waitForStatus(runId, "running");
      await reconcileRuns({ db: h.db, redis: h.redis, keys: h.deps.keys });
      const at = (node: string) => ({ pipeline: pipelineId, run: runId, node });
      // Scrape and read the canvas's live figures within one shown second whose figures did not change meanwhile, and
      // only once that second has records through the window (latency, state and the shuffle edge's backlog).
      const { families, view } = await waitFor(
        async () => {
          const sec = liveSecond();
          const hash = JSON.stringify(await h.redis.hgetall(h.deps.keys.runFigures(runId, sec)));
          const scraped = await scrape();
          const stop = new AbortController();
          const live = liveNodeFigures(h.redis, h.deps.keys, runId, stop.signal, async () => false);
          const shown = (await live.next()).value;
          stop.abort();
          await live.return(undefined);
          const still =
            liveSecond() === sec &&
            shown?.sec === sec &&
            JSON.stringify(await h.redis.hgetall(h.deps.keys.runFigures(runId, sec))) === hash;
          const ready =
            sample(scraped.families, "sluice_node_batch_latency_seconds", { ...at("win"), quantile: "0.99" }) !==
              undefined &&
            (sample(scraped.families, "sluice_node_state_keys", at("win")) ?? 0) > 0 &&
            sample(scraped.families, "sluice_edge_backlog_entries", { run: runId, edge }) !== undefined;
          return still && ready && shown ? { ...scraped, view: shown } : undefined;
        },
        30_000,
        () => "waiting for a second with records through the window, scraped and shown alike",
      );

      for (const name of [
        "sluice_node_batch_latency_seconds",
        "sluice_node_state_keys",
        "sluice_node_input_lag_entries",
        "sluice_edge_backlog_entries",
        "sluice_edge_backpressured",
      ]) {
        expect(families.get(name)?.type, name).toBe("GAUGE");
      }
      // Batch latency by quantile, in seconds, for every node that took part in that second's batches.
      for (const node of ["gen", "win"]) {
        const p50 = sample(families, "sluice_node_batch_latency_seconds", { ...at(node), quantile: "0.5" });
        const p99 = sample(families, "sluice_node_batch_latency_seconds", { ...at(node), quantile: "0.99" });
        expect(p50, node).toBeGreaterThan(0);
        expect(p99, node).toBeGreaterThanOrEqual(p50 ?? Number.POSITIVE_INFINITY);
        expect(p50, node).toBe((view.nodes[node]?.p50Ms ?? Number.NaN) / 1000);
        expect(p99, node).toBe((view.nodes[node]?.p99Ms ?? Number.NaN) / 1000);
      }
      // The sink took part in none: its minute-long window has not closed yet. No batch gives no sample, not a 0.
      expect(view.nodes.out?.p99Ms).toBeNull();
      expect(sample(families, "sluice_node_batch_latency_seconds", at("out"))).toBeUndefined();
      // The window holds keys of its open windows; the source holds none.
      expect(sample(families, "sluice_node_state_keys", at("win"))).toBe(view.nodes.win?.stateKeys);
      expect(view.nodes.win?.stateKeys).toBeGreaterThan(0);
      expect(sample(families, "sluice_node_state_keys", at("gen"))).toBeUndefined();
      // The window's input is the shuffle from the source's stage: its lag counts the entries waiting there.
      expect(view.nodes.win?.inputLag).not.toBeNull();
      expect(sample(families, "sluice_node_input_lag_entries", at("win"))).toBe(view.nodes.win?.inputLag);
      expect(sample(families, "sluice_node_input_lag_entries", at("win"))).toBeGreaterThanOrEqual(0);
      expect(sample(families, "sluice_node_input_lag_entries", at("gen"))).toBeUndefined();
      // The shuffle edge: its backlog and whether its producers waited, the figures the canvas draws on it.
      const shownEdge = view.edges[edge];
      expect(shownEdge?.backlog).not.toBeNull();
      const labels = { pipeline: pipelineId, run: runId, edge };
      expect(sample(families, "sluice_edge_backlog_entries", labels)).toBe(shownEdge?.backlog);
      expect(sample(families, "sluice_edge_backlog_entries", labels)).toBeGreaterThanOrEqual(0);
      expect(sample(families, "sluice_edge_backpressured", labels)).toBe(shownEdge?.backpressured ? 1 : 0);
      await api.runs.stop({ runId });
    } finally {
      await worker.close();
    }
  });

  it("gives a source's offset lag with its unit, the number the live canvas shows", async () => {
    const { cookie } = await h.signUp("Lagger");
    const { api } = await h.caller(cookie);
    const worker = await fleet.startInProcess("metrics-w2", catalog, runtimes);
    // Database 1: database 0 is Sluice's own, which no connection may reach.
    const url = "redis://127.0.0.1:6379/1";
    const events = new Redis(url);
    const stream = `sluice-metrics-lag-${fleet.prefix}`;
    try {
      await api.connections.create({ name: "events", type: "redis", config: { url } });
      const def = emptyDefinition("metrics-lag");
      def.spec.nodes.push(
        { id: "src", type: "source.redis-stream", config: { connection: "events", stream } },
        { id: "out", type: "sink.console", config: {} },
      );
      def.spec.edges.push({ from: "src", to: "out" });
      const { id: pipelineId } = await api.pipelines.create({ name: "Metrics lag", definition: def });
      const { id: runId } = await api.runs.start({ pipelineId });
      await fleet.waitForStatus(runId, "running");
      // "running" comes before any partition is leased, and one that finds the run paused at its first control poll
      // runs no batch: no watermark, so the figures would show the source's offset lag and nothing of the sink. A
      // first batch commits the watermark (the clock's) even when it reads nothing; it writes no counters, as only
      // non-zero ones are committed, so the snapshot's nodes stay empty with an empty stream.
      await waitFor(
        async () => ((await readRunSnapshot(h.redis, h.deps.keys, runId))?.watermark ?? null) !== null,
        15_000,
        () => "waiting for the run's first batch",
      );
      // Paused, the source reads nothing more, and its partition still tells how far behind it is.
      await api.runs.pause({ runId });
      await fleet.waitForStatus(runId, "paused");
      await reconcileRuns({ db: h.db, redis: h.redis, keys: h.deps.keys });
      // Partitions see the pause at their next control poll (250 ms): give them that before writing.
      await new Promise((r) => setTimeout(r, 1000));
      for (let i = 0; i < 250; i++) await events.xadd(stream, "*", "data", JSON.stringify({ i }));

      const labels = { pipeline: pipelineId, run: runId, node: "src", unit: "entries" };
      const { families } = await waitFor(
        async () => {
          const scraped = await scrape();
          return sample(scraped.families, "sluice_source_offset_lag", labels) === 250 ? scraped : undefined;
        },
        15_000,
        () => "waiting for the source's offset lag to be scraped",
      );
      expect(families.get("sluice_source_offset_lag")?.type).toBe("GAUGE");
      // A node without one (the sink) has no sample.
      expect(sample(families, "sluice_source_offset_lag", { run: runId, node: "out" })).toBeUndefined();

      const stop = new AbortController();
      const live = liveNodeFigures(h.redis, h.deps.keys, runId, stop.signal, async () => false);
      const second = (await live.next()).value;
      stop.abort();
      await live.return(undefined);
      expect(second?.nodes.src).toMatchObject({ offsetLag: 250, offsetLagUnit: "entries" });
      expect(second?.nodes.out).toMatchObject({ offsetLag: null, offsetLagUnit: null });
      // Paused before the entries came: none of them was read.
      expect((await readRunSnapshot(h.redis, h.deps.keys, runId))?.nodes.src?.out ?? 0).toBe(0);
      await api.runs.stop({ runId });
    } finally {
      await worker.close();
      await events.del(stream);
      events.disconnect();
    }
  });
});
