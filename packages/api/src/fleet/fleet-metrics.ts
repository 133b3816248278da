import type { Db } from "@sluice/db/client";
import {
  type EdgeFigureView,
  figuresView,
  type NodeFigureView,
  type RunFiguresView,
  readNodeFigures,
} from "@sluice/pipeline/control/node-figures";
import type { RunSnapshot } from "@sluice/pipeline/control/protocol";
import { readRunSnapshot } from "@sluice/pipeline/control/run-reader";
import { fromDbStatus, RUN_STATUSES, toDbStatus } from "@sluice/pipeline/control/run-status";
import { Counter, Gauge, Registry } from "prom-client";
import { liveSecond } from "../runs/node-figures";
import { type Fleet, type FleetDeps, readFleet } from "./fleet-service";

// GET /api/metrics: the installation's figures in Prometheus text format, read when scraped. Each collector adds its
// metrics to one registry; their collect() callbacks read through a shared read, so a scrape reads the fleet once
// and the runs once however many metrics come from them. Per-node and per-edge figures are those of the second the
// live canvas shows, turned into numbers by the canvas's own view (figuresView), so both always agree.
// Labels carry ids (worker, host, pipeline, run, node, edge, queue), never configuration or records.

export interface MetricsDeps extends FleetDeps {
  db: Db;
  /** Only this workspace's runs (a scrape with an API token); every workspace's when absent. The fleet is shared. */
  workspaceId?: string;
}

/** A source of figures: registers its metrics, each filled by a collect() that runs on scrape. */
export type MetricsCollector = (registry: Registry, deps: MetricsDeps) => void;

/** Runs whose snapshots one scrape reads at most (the most recently started); the rest are counted as skipped. */
export const MAX_SCRAPED_RUNS = 200;

/** Run statuses whose runs have live figures in Redis. */
const LIVE_STATUSES = (["running", "paused", "stopping"] as const).map(toDbStatus);

/**
 * One read shared by the collect() callbacks of a scrape (prom-client starts them all at once) and by scrapes that
 * arrive within `reuseMs` of it, so a flood of scrapes costs one read per interval.
 */
function sharedRead<T>(read: () => Promise<T>, reuseMs = 1000): () => Promise<T> {
  let last: { at: number; value: Promise<T> } | undefined;
  return () => {
    const now = Date.now();
    if (!last || now - last.at > reuseMs) {
      const value = read();
      last = { at: now, value };
      // A failed read is not reused: the next scrape tries again.
      value.catch(() => {
        if (last?.value === value) last = undefined;
      });
    }
    return last.value;
  };
}

const fleetCollector: MetricsCollector = (registry, deps) => {
  const fleet = sharedRead<Fleet>(() => readFleet(deps));
  const live = async () => (await fleet()).workers.filter((w) => w.alive);
  new Gauge({
    name: "sluice_workers",
    help: "Workers heard from in the last hour, by state (alive: heartbeat within 5 s; dead: silent or stopped).",
    labelNames: ["state"],
    registers: [registry],
    async collect() {
      const { workers } = await fleet();
      const alive = workers.filter((w) => w.alive).length;
      this.set({ state: "alive" }, alive);
      this.set({ state: "dead" }, workers.length - alive);
    },
  });
  new Gauge({
    name: "sluice_worker_cpu_cores",
    help: "CPU a live worker process used over its last heartbeat interval, in cores.",
    labelNames: ["worker", "host"],
    registers: [registry],
    async collect() {
      this.reset();
      for (const w of await live()) this.set({ worker: w.id, host: w.host ?? "" }, w.cpuCores ?? 0);
    },
  });
  new Gauge({
    name: "sluice_worker_memory_bytes",
    help: "Memory of a live worker process: resident set (rss) and V8 heap in use (heap_used).",
    labelNames: ["worker", "host", "kind"],
    registers: [registry],
    async collect() {
      this.reset();
      for (const w of await live()) {
        this.set({ worker: w.id, host: w.host ?? "", kind: "rss" }, w.rssBytes ?? 0);
        this.set({ worker: w.id, host: w.host ?? "", kind: "heap_used" }, w.heapUsedBytes ?? 0);
      }
    },
  });
  new Gauge({
    name: "sluice_worker_partitions",
    help: "Task partitions a live worker holds.",
    labelNames: ["worker", "host"],
    registers: [registry],
    async collect() {
      this.reset();
      for (const w of await live()) this.set({ worker: w.id, host: w.host ?? "" }, w.partitions.length);
    },
  });
  new Gauge({
    name: "sluice_queue_jobs",
    help: "Jobs in the fleet's queues, by queue and state.",
    labelNames: ["queue", "state"],
    registers: [registry],
    async collect() {
      this.reset();
      for (const q of (await fleet()).queues) {
        for (const state of ["waiting", "active", "delayed", "failed"] as const) {
          this.set({ queue: q.queue, state }, q[state]);
        }
      }
    },
  });
};

interface RunFigures {
  byStatus: Map<string, number>;
  snapshots: { pipelineId: string; snapshot: RunSnapshot }[];
  skipped: number;
}

async function readRuns(deps: MetricsDeps): Promise<RunFigures> {
  const ofWorkspace = deps.workspaceId ? { workspaceId: deps.workspaceId } : {};
  const [groups, live] = await Promise.all([
    deps.db.run.groupBy({ by: ["status"], where: ofWorkspace, _count: { _all: true } }),
    deps.db.run.findMany({
      where: { ...ofWorkspace, status: { in: [...LIVE_STATUSES] } },
      orderBy: [{ startedAt: { sort: "desc", nulls: "last" } }, { id: "asc" }],
      select: { id: true, pipelineId: true },
    }),
  ]);
  const byStatus = new Map(groups.map((g) => [fromDbStatus(g.status), g._count._all]));
  const read = live.slice(0, MAX_SCRAPED_RUNS);
  const snapshots = await Promise.all(
    read.map(async (run) => ({
      pipelineId: run.pipelineId,
      snapshot: await readRunSnapshot(deps.redis, deps.keys, run.id),
    })),
  );
  return {
    byStatus,
    snapshots: snapshots.flatMap((s) => (s.snapshot ? [{ pipelineId: s.pipelineId, snapshot: s.snapshot }] : [])),
    skipped: live.length - read.length,
  };
}

const runCollector: MetricsCollector = (registry, deps) => {
  const runs = sharedRead(() => readRuns(deps));
  new Gauge({
    name: "sluice_runs",
    help: "Runs by status, over every workspace (with an API token: over the token's workspace).",
    labelNames: ["status"],
    registers: [registry],
    async collect() {
      const { byStatus } = await runs();
      for (const status of RUN_STATUSES) this.set({ status }, byStatus.get(status) ?? 0);
    },
  });
  new Counter({
    name: "sluice_node_records_total",
    help: "Records a node of a live run took in, sent out or failed on (direction in, out, error), committed so far.",
    labelNames: ["pipeline", "run", "node", "direction"],
    registers: [registry],
    async collect() {
      this.reset();
      for (const { pipelineId, snapshot } of (await runs()).snapshots) {
        for (const [node, c] of Object.entries(snapshot.nodes)) {
          const labels = { pipeline: pipelineId, run: snapshot.runId, node };
          this.inc({ ...labels, direction: "in" }, c.in);
          this.inc({ ...labels, direction: "out" }, c.out);
          this.inc({ ...labels, direction: "error" }, c.errors);
        }
      }
    },
  });
  new Gauge({
    name: "sluice_run_watermark_seconds",
    help: "The lowest committed watermark over a live run's partitions, as seconds since the epoch.",
    labelNames: ["pipeline", "run"],
    registers: [registry],
    async collect() {
      this.reset();
      for (const { pipelineId, snapshot } of (await runs()).snapshots) {
        if (snapshot.watermark !== null)
          this.set({ pipeline: pipelineId, run: snapshot.runId }, snapshot.watermark / 1000);
      }
    },
  });
  new Gauge({
    name: "sluice_metrics_runs_skipped",
    help: `Live runs left out of this scrape's per-run figures: a scrape reads at most ${MAX_SCRAPED_RUNS}, the most recently started.`,
    registers: [registry],
    async collect() {
      this.set((await runs()).skipped);
    },
  });
  const live = sharedRead(() => readLiveFigures(deps, runs));
  addLiveFigureMetrics(registry, live);
};

interface LiveFigures {
  pipelineId: string;
  view: RunFiguresView;
}

/** Each scraped run's figures of the second the live canvas shows, as the canvas shows them. */
async function readLiveFigures(deps: MetricsDeps, runs: () => Promise<RunFigures>): Promise<LiveFigures[]> {
  const sec = liveSecond();
  return Promise.all(
    (await runs()).snapshots.map(async ({ pipelineId, snapshot }) => {
      const figures = await readNodeFigures(deps.redis, deps.keys, snapshot.runId, sec, sec);
      return { pipelineId, view: figuresView(snapshot.runId, figures, snapshot.nodes) };
    }),
  );
}

/** Latency quantiles per node, those the canvas shows. */
const LATENCY_QUANTILES = [
  ["0.5", "p50Ms"],
  ["0.99", "p99Ms"],
] as const;

/** A gauge per node or shuffle edge of each scraped run: `values` gives each one's figure from the canvas's view. */
function viewGauge(
  registry: Registry,
  live: () => Promise<LiveFigures[]>,
  metric: { name: string; help: string; label: "node" | "edge" },
  values: (view: RunFiguresView) => [id: string, value: number | null][],
): void {
  new Gauge({
    name: metric.name,
    help: metric.help,
    labelNames: ["pipeline", "run", metric.label],
    registers: [registry],
    async collect() {
      this.reset();
      for (const { pipelineId, view } of await live()) {
        for (const [id, value] of values(view)) {
          if (value !== null) this.set({ pipeline: pipelineId, run: view.runId, [metric.label]: id }, value);
        }
      }
    },
  });
}

const ofNodes = (value: (f: NodeFigureView) => number | null) => (view: RunFiguresView) =>
  Object.entries(view.nodes).map(([id, f]): [string, number | null] => [id, value(f)]);
const ofEdges = (value: (e: EdgeFigureView) => number | null) => (view: RunFiguresView) =>
  Object.entries(view.edges).map(([id, e]): [string, number | null] => [id, value(e)]);

/**
 * The canvas's figures per node and shuffle edge. One the shown second did not report (no batch, a node without
 * state, an edge no producer spoke of) has no sample: an absent series means "unknown", never 0.
 */
function addLiveFigureMetrics(registry: Registry, live: () => Promise<LiveFigures[]>): void {
  new Gauge({
    name: "sluice_source_offset_lag",
    help: "How far a source node of a live run is behind what its system holds for it, summed over its partitions, in its unit (bytes: WAL or files; messages: broker; entries: stream), as the canvas shows it.",
    labelNames: ["pipeline", "run", "node", "unit"],
    registers: [registry],
    async collect() {
      this.reset();
      for (const { pipelineId, view } of await live()) {
        for (const [node, f] of Object.entries(view.nodes)) {
          if (f.offsetLag === null || f.offsetLagUnit === null) continue;
          this.set({ pipeline: pipelineId, run: view.runId, node, unit: f.offsetLagUnit }, f.offsetLag);
        }
      }
    },
  });
  new Gauge({
    name: "sluice_node_batch_latency_seconds",
    help: "Batch latency of a node of a live run over the last complete second, by quantile (0.5, 0.99), merged over its partitions, as the canvas shows it: the upper bound of the latency bucket the quantile falls in (at most 19 % high).",
    labelNames: ["pipeline", "run", "node", "quantile"],
    registers: [registry],
    async collect() {
      this.reset();
      for (const { pipelineId, view } of await live()) {
        for (const [node, f] of Object.entries(view.nodes)) {
          for (const [quantile, field] of LATENCY_QUANTILES) {
            const ms = f[field];
            if (ms !== null) this.set({ pipeline: pipelineId, run: view.runId, node, quantile }, ms / 1000);
          }
        }
      }
    },
  });
  viewGauge(
    registry,
    live,
    {
      label: "node",
      name: "sluice_node_state_keys",
      help: "Keys a stateful node of a live run holds in its state stores, summed over its partitions, as the canvas shows it.",
    },
    ofNodes((f) => f.stateKeys),
  );
  viewGauge(
    registry,
    live,
    {
      label: "node",
      name: "sluice_node_input_lag_entries",
      help: "Entries waiting for a node of a live run in the shuffle streams of the stage before, summed over its partitions, as the canvas shows it.",
    },
    ofNodes((f) => f.inputLag),
  );
  viewGauge(
    registry,
    live,
    {
      label: "edge",
      name: "sluice_edge_backlog_entries",
      help: "Entries written to a shuffle edge of a live run and not yet consumed by the next stage, summed over its producers, as the canvas shows it.",
    },
    ofEdges((e) => e.backlog),
  );
  viewGauge(
    registry,
    live,
    {
      label: "edge",
      name: "sluice_edge_backpressured",
      help: "1 when a producer of a shuffle edge of a live run waited on the next stage in the last complete second (the canvas's red edge), else 0.",
    },
    ofEdges((e) => (e.backpressured ? 1 : 0)),
  );
}

/** The registry /api/metrics serves, with the given collectors (the fleet and the runs unless told otherwise). */
export function createMetricsRegistry(
  deps: MetricsDeps,
  collectors: readonly MetricsCollector[] = [fleetCollector, runCollector],
): Registry {
  const registry = new Registry();
  for (const add of collectors) add(registry, deps);
  return registry;
}
