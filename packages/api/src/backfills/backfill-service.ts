import type { Prisma } from "@sluice/db/generated/prisma/client";
import { connect, PostgresConnectError, type Session } from "@sluice/nodes/connectors/postgres/pg-client";
import { pgErrorText } from "@sluice/nodes/connectors/postgres/pg-errors";
import type { PostgresConnectionConfig } from "@sluice/nodes/connectors/postgres/postgres-connection.def";
import type { PostgresSinkConfig } from "@sluice/nodes/connectors/postgres/postgres-sink.def";
import { parseTableName, type QualifiedName } from "@sluice/nodes/connectors/postgres/sql-names";
import { DestinationRefusedError } from "@sluice/nodes/destination-policy";
import { replayRefusal, replaySupport } from "@sluice/nodes/replay";
import type { Keys } from "@sluice/pipeline/control/keys";
import { runSnapshot, runTaskRefs } from "@sluice/pipeline/control/protocol";
import { readRunMeta } from "@sluice/pipeline/control/run-reader";
import { stopRun as requestStop } from "@sluice/pipeline/control/run-state";
import { ACTIVE_DB_STATUSES } from "@sluice/pipeline/control/run-status";
import { type SecretScrubber, secretScrubber } from "@sluice/pipeline/control/secret-scrub";
import type { PipelineDefinition } from "@sluice/pipeline/definition";
import { TRPCError } from "@trpc/server";
import type { Redis } from "ioredis";
import type { z } from "zod";
import { openSecrets, parseConfig } from "../connections/connection-secrets";
import { plainConfig } from "../connections/connection-service";
import type { Actor } from "../pipelines/pipeline-service";
import type { StartRunDeps } from "../runs/run-service";
import { checkStartable, startConnections, startJob } from "../runs/start-check";
import { BackfillInputError, backfillDefinition, upstreamOf, upstreamSources } from "./backfill-definition";
import type {
  BackfillPlan,
  BackfillView,
  CompareInput,
  Comparison,
  ListBackfillsInput,
  PlanInput,
  StartBackfillInput,
  SwapInput,
} from "./backfill-router.types";
import {
  compareTables,
  createShadow,
  describeLive,
  dropPrevious as dropKeptTable,
  dropTable,
  type LiveTable,
  siblingName,
  swapTables,
  tableExists,
  tableText,
} from "./backfill-tables";

// Backfills: a run of a pipeline's version cut down to one sink.postgres and what feeds it, its sources replayed
// over a chosen stretch, writing a shadow table `<live>__g<generation>`; then a comparison with the live table and
// an atomic swap (backfill-tables.ts). States: FILLING → FILLED (the run completed) → COMPARED → SWAPPED, or
// FAILED (the run failed or was stopped) / DISCARDED (the shadow dropped). A filling backfill is settled when it is
// read (get, list, and before compare and swap): its run's status, from Redis while the run is known there, else
// from its Run row, which the run reconciler keeps.

export interface BackfillDeps extends StartRunDeps {
  redis: Redis;
  keys: Keys;
  runRetentionMs?: number;
}

type BackfillState = BackfillView["state"];
const OPEN_STATES: readonly BackfillState[] = ["FILLING", "FILLED", "COMPARED"];

function fail(code: TRPCError["code"], message: string): never {
  throw new TRPCError({ code, message });
}

// --- The version and its sinks -------------------------------------------------------------------------------------

async function loadVersion(deps: BackfillDeps, workspaceId: string, pipelineId: string, number?: number) {
  const pipeline = await deps.db.pipeline.findFirst({
    where: { id: pipelineId, workspaceId },
    select: { id: true, latestVersion: true },
  });
  if (!pipeline) fail("NOT_FOUND", "no such pipeline in this workspace");
  const version = await deps.db.pipelineVersion.findUnique({
    where: { pipelineId_number: { pipelineId, number: number ?? pipeline.latestVersion } },
  });
  if (!version) fail("NOT_FOUND", `version ${number ?? pipeline.latestVersion} does not exist`);
  const checked = await checkStartable(deps, workspaceId, version.definition, {}, `Version ${version.number}`);
  return { pipeline, version, checked };
}

function postgresSinks(def: PipelineDefinition) {
  return def.spec.nodes.filter((n) => n.type === "sink.postgres");
}

export async function planBackfill(
  deps: BackfillDeps,
  workspaceId: string,
  input: z.output<typeof PlanInput>,
): Promise<z.output<typeof BackfillPlan>> {
  const { pipeline, version, checked } = await loadVersion(deps, workspaceId, input.pipelineId, input.version);
  const def = checked.definition;
  const open = await deps.db.backfill.findMany({
    where: { pipelineId: pipeline.id, state: { in: [...OPEN_STATES] } },
    select: { id: true, sinkNodeId: true },
  });
  const allSinks = def.spec.nodes.filter((n) => deps.catalog.get(n.type)?.kind === "sink").map((n) => n.id);
  return {
    pipelineId: pipeline.id,
    version: version.number,
    sinks: postgresSinks(def).map((sink) => {
      const c = checked.configs[sink.id] as PostgresSinkConfig;
      const upstream = upstreamOf(def, sink.id);
      return {
        nodeId: sink.id,
        connection: c.connection,
        table: c.table,
        mode: c.mode,
        key: c.key,
        sources: upstreamSources(def, checked.configs, deps.catalog, sink.id).map((s) => {
          const support = replaySupport(s.type);
          return {
            nodeId: s.nodeId,
            type: s.type,
            title: deps.catalog.get(s.type)?.title ?? s.type,
            replay: support ? { by: [...support.by], offsetLabel: support.offsetLabel, note: support.note } : null,
            endsByItself: s.endsByItself,
            refusal: support ? null : replayRefusal(s.type),
          };
        }),
        otherSinks: allSinks.filter((id) => id !== sink.id && !upstream.has(id)),
        activeBackfillId: open.find((b) => b.sinkNodeId === sink.id)?.id ?? null,
      };
    }),
  };
}

// --- The sink's connection ---------------------------------------------------------------------------------------

interface SinkSession {
  session: Session;
  scrub: SecretScrubber;
  name: string;
}

/** A session on the sink's connection, checked by the destination policy like every connection the API opens. */
async function openSink(deps: BackfillDeps, workspaceId: string, connection: string): Promise<SinkSession> {
  const row = await deps.db.connection.findFirst({ where: { workspaceId, name: connection } });
  if (!row) fail("PRECONDITION_FAILED", `the sink's connection "${connection}" does not exist any more`);
  if (row.type !== "postgres") fail("PRECONDITION_FAILED", `connection "${connection}" is not a PostgreSQL connection`);
  const def = deps.connectionTypes.get(row.type);
  if (!def) fail("PRECONDITION_FAILED", `connection "${connection}" is of a type this installation does not know`);
  const secrets = await openSecrets(deps.secretKey, row);
  const scrub = secretScrubber(secrets);
  const config = parseConfig(def, { ...plainConfig(row), ...secrets }, scrub) as PostgresConnectionConfig;
  try {
    const session = await connect(config, deps.destinations.for(connection), { applicationSuffix: " (backfill)" });
    return { session, scrub, name: connection };
  } catch (err) {
    if (err instanceof DestinationRefusedError)
      fail("BAD_REQUEST", `connection "${connection}": ${scrub.text(err.message)}`);
    if (err instanceof PostgresConnectError) {
      fail("SERVICE_UNAVAILABLE", `connection "${connection}": ${scrub.text(err.message)}`);
    }
    throw err;
  }
}

/** Runs `work` on the sink's connection; the server's refusals come back as 4xx in its own words, secrets cut out. */
async function onSink<T>(
  deps: BackfillDeps,
  workspaceId: string,
  connection: string,
  work: (client: Session["client"]) => Promise<T>,
): Promise<T> {
  const sink = await openSink(deps, workspaceId, connection);
  try {
    return await work(sink.session.client);
  } catch (err) {
    if (err instanceof TRPCError) throw err;
    const code = (err as { code?: unknown }).code;
    const text = sink.scrub.text(typeof code === "string" ? pgErrorText(err) : (err as Error).message);
    fail(
      code === "55P03" ? "CONFLICT" : typeof code === "string" ? "BAD_REQUEST" : "PRECONDITION_FAILED",
      `on connection "${connection}": ${text}`,
    );
  } finally {
    await sink.session.end();
  }
}

async function liveTableOf(client: Session["client"], table: string): Promise<LiveTable> {
  const live = await describeLive(client, table);
  if (!live) fail("PRECONDITION_FAILED", `the live table ${table} does not exist (or this connection may not see it)`);
  return live;
}

function qualified(text: string): QualifiedName {
  const q = parseTableName(text);
  if (!q) throw new Error(`"${text}" is not a table name`);
  return q;
}

// --- Start -------------------------------------------------------------------------------------------------------

export async function startBackfill(
  deps: BackfillDeps,
  actor: Actor,
  input: z.output<typeof StartBackfillInput>,
): Promise<{ id: string; runId: string; shadowTable: string; generation: number }> {
  const { pipeline, version, checked } = await loadVersion(deps, actor.workspaceId, input.pipelineId, input.version);
  const sinkNode = checked.definition.spec.nodes.find((n) => n.id === input.sinkNodeId);
  if (!sinkNode) fail("BAD_REQUEST", `sinkNodeId: version ${version.number} has no node "${input.sinkNodeId}"`);
  if (sinkNode.type !== "sink.postgres") {
    fail(
      "BAD_REQUEST",
      `sinkNodeId: node "${sinkNode.id}" is a ${sinkNode.type}; backfills write sink.postgres tables`,
    );
  }
  const sink = checked.configs[sinkNode.id] as PostgresSinkConfig;
  const open = await deps.db.backfill.findFirst({
    where: { pipelineId: pipeline.id, sinkNodeId: sinkNode.id, state: { in: [...OPEN_STATES] } },
    select: { id: true, state: true },
  });
  if (open) {
    fail(
      "CONFLICT",
      `sink "${sinkNode.id}" has a backfill in progress (${open.state.toLowerCase()}): swap or discard it first`,
    );
  }
  const last = await deps.db.backfill.aggregate({
    where: { pipelineId: pipeline.id, sinkNodeId: sinkNode.id },
    _max: { generation: true },
  });
  const generation = (last._max.generation ?? 0) + 1;

  // The definition first: a choice that cannot run is refused before anything is created.
  let shadow: { schema: string; name: string };
  try {
    const liveQ = qualified(sink.table);
    // The schema is settled against the server below; the name's length can be judged now.
    shadow = siblingName({ schema: liveQ.schema ?? "", name: liveQ.name }, `__g${generation}`);
  } catch (err) {
    fail("BAD_REQUEST", `node "${sinkNode.id}": ${(err as Error).message}`);
  }
  const draft = (shadowTable: string) => {
    try {
      return backfillDefinition(
        checked.definition,
        checked.configs,
        deps.catalog,
        sinkNode.id,
        input.replay,
        shadowTable,
      );
    } catch (err) {
      if (err instanceof BackfillInputError) fail("BAD_REQUEST", err.message);
      throw err;
    }
  };
  draft(shadow.name);

  // The live table, and the shadow made like it.
  const shadowTable = await onSink(deps, actor.workspaceId, sink.connection, async (client) => {
    const live = await liveTableOf(client, sink.table);
    const name = { schema: live.schema, name: shadow.name };
    if (await tableExists(client, name)) {
      fail("CONFLICT", `the table ${tableText(name)} exists already: drop it or rename it first`);
    }
    await createShadow(client, { schema: live.schema, name: live.name }, name);
    return tableText(name);
  });
  const dropShadow = () =>
    onSink(deps, actor.workspaceId, sink.connection, (client) => dropTable(client, qualified(shadowTable))).catch(
      () => {},
    );

  try {
    const derived = await checkStartable(
      deps,
      actor.workspaceId,
      draft(shadowTable),
      checked.parameters,
      `The backfill of ${sinkNode.id}`,
    );
    const connections = await startConnections(deps, actor.workspaceId, derived);
    const { run, backfill } = await deps.db.$transaction(async (tx) => {
      const run = await tx.run.create({
        data: {
          workspaceId: actor.workspaceId,
          pipelineId: pipeline.id,
          versionId: version.id,
          startedById: actor.userId,
          parameters: derived.parameters as Prisma.InputJsonValue,
        },
      });
      const backfill = await tx.backfill.create({
        data: {
          workspaceId: actor.workspaceId,
          pipelineId: pipeline.id,
          runId: run.id,
          sinkNodeId: sinkNode.id,
          liveTable: sink.table,
          shadowTable,
          generation,
          replay: input.replay as Prisma.InputJsonValue,
          createdById: actor.userId,
        },
      });
      return { run, backfill };
    });
    try {
      const job = await startJob(run, derived, connections);
      await deps.controlQueue.add("start", job, {
        jobId: `start-${run.id}`,
        attempts: 5,
        backoff: { type: "exponential", delay: 1000 },
        removeOnComplete: 1000,
        removeOnFail: 1000,
      });
    } catch (err) {
      await deps.db.$transaction([
        deps.db.backfill.delete({ where: { id: backfill.id } }),
        deps.db.run.delete({ where: { id: run.id } }),
      ]);
      if (err instanceof TRPCError) throw err;
      fail("SERVICE_UNAVAILABLE", `cannot reach Redis to start the backfill: ${(err as Error).message}`);
    }
    return { id: backfill.id, runId: run.id, shadowTable, generation };
  } catch (err) {
    await dropShadow();
    throw err;
  }
}

// --- Reading and settling ------------------------------------------------------------------------------------------

const include = {
  pipeline: { select: { name: true } },
  createdBy: { select: { name: true } },
  run: { select: { id: true, status: true, error: true, counters: true, version: { select: { definition: true } } } },
} as const;
type BackfillRow = Prisma.BackfillGetPayload<{ include: typeof include }>;

interface LiveRun {
  status: string;
  error: string | null;
  nodes: Record<string, { in: number; out: number }>;
  progress: Map<string, { done: number; total: number }>;
}

/** The run's state in Redis (status, counters, each source's progress), or undefined once Redis no longer has it. */
async function readLiveRun(deps: BackfillDeps, runId: string): Promise<LiveRun | undefined> {
  const meta = await readRunMeta(deps.redis, deps.keys, runId);
  if (!meta) return undefined;
  const states = await Promise.all(
    runTaskRefs(runId, meta.stages).map((t) => deps.redis.hgetall(deps.keys.taskState(t))),
  );
  const done = await deps.redis.scard(deps.keys.runDone(runId));
  const snapshot = runSnapshot(runId, meta, states, done, Date.now());
  const progress = new Map<string, { done: number; total: number }>();
  for (const state of states) {
    for (const [field, value] of Object.entries(state)) {
      if (!field.startsWith("p:")) continue;
      const p = JSON.parse(value) as { done: number; total: number };
      const sum = progress.get(field.slice(2)) ?? { done: 0, total: 0 };
      progress.set(field.slice(2), { done: sum.done + p.done, total: sum.total + p.total });
    }
  }
  return { status: snapshot.status.toUpperCase(), error: snapshot.error, nodes: snapshot.nodes, progress };
}

/** FILLING → FILLED when the run completed, FAILED when it failed, was stopped or is gone. */
async function settle(deps: BackfillDeps, row: BackfillRow, live: LiveRun | undefined): Promise<BackfillRow> {
  if (row.state !== "FILLING") return row;
  const status = live?.status ?? row.run?.status;
  let next: { state: BackfillState; error: string | null } | undefined;
  if (!row.run) next = { state: "FAILED", error: "the backfill's run was deleted" };
  else if (status === "COMPLETED") next = { state: "FILLED", error: null };
  else if (status === "FAILED") next = { state: "FAILED", error: live?.error ?? row.run.error ?? "the run failed" };
  else if (status === "STOPPED") next = { state: "FAILED", error: "the run was stopped before it read everything" };
  if (!next) return row;
  await deps.db.backfill.updateMany({ where: { id: row.id, state: "FILLING" }, data: next });
  return { ...row, ...next };
}

function viewOf(row: BackfillRow, live: LiveRun | undefined, catalog: BackfillDeps["catalog"]): BackfillView {
  const definition = row.run?.version.definition as PipelineDefinition | undefined;
  const upstream = definition ? upstreamOf(definition, row.sinkNodeId) : new Set<string>();
  const sourceIds = (definition?.spec.nodes ?? [])
    .filter((n) => upstream.has(n.id) && catalog.get(n.type)?.kind === "source")
    .map((n) => n.id);
  const counters = (live?.nodes ?? (row.run?.counters as LiveRun["nodes"] | null) ?? {}) as LiveRun["nodes"];
  let done = 0;
  let total = 0;
  const sources = sourceIds.map((nodeId) => {
    const p = live?.progress.get(nodeId);
    if (p && p.total > 0) {
      done += Math.min(p.done, p.total);
      total += p.total;
    }
    return {
      nodeId,
      read: counters[nodeId]?.out ?? 0,
      fraction: p && p.total > 0 ? Math.min(1, p.done / p.total) : row.state === "FILLING" ? null : 1,
    };
  });
  const settled = row.state !== "FILLING" && row.state !== "FAILED";
  return {
    id: row.id,
    pipelineId: row.pipelineId,
    pipelineName: row.pipeline.name,
    sinkNodeId: row.sinkNodeId,
    liveTable: row.liveTable,
    shadowTable: row.shadowTable,
    generation: row.generation,
    replay: row.replay as Record<string, unknown>,
    state: row.state,
    runId: row.runId,
    runStatus: live?.status ?? row.run?.status ?? null,
    written: counters[row.sinkNodeId]?.in ?? null,
    sources,
    fraction: settled ? 1 : total > 0 ? done / total : null,
    comparison: (row.comparison as Comparison | null) ?? null,
    previousTable: row.previousTable,
    error: row.error,
    createdBy: row.createdBy.name,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    swappedAt: row.swappedAt,
  };
}

async function findRow(deps: BackfillDeps, workspaceId: string, id: string): Promise<BackfillRow> {
  const row = await deps.db.backfill.findFirst({ where: { id, workspaceId }, include });
  if (!row) fail("NOT_FOUND", "no such backfill in this workspace");
  return row;
}

async function readSettled(deps: BackfillDeps, row: BackfillRow): Promise<BackfillView> {
  const live = row.runId && row.state === "FILLING" ? await readLiveRun(deps, row.runId) : undefined;
  return viewOf(await settle(deps, row, live), live, deps.catalog);
}

export async function getBackfill(deps: BackfillDeps, workspaceId: string, id: string): Promise<BackfillView> {
  return readSettled(deps, await findRow(deps, workspaceId, id));
}

export async function listBackfills(
  deps: BackfillDeps,
  workspaceId: string,
  input: z.output<typeof ListBackfillsInput>,
): Promise<BackfillView[]> {
  const rows = await deps.db.backfill.findMany({
    where: { workspaceId, ...(input.pipelineId ? { pipelineId: input.pipelineId } : {}) },
    orderBy: { createdAt: "desc" },
    take: input.limit,
    include,
  });
  return Promise.all(rows.map((row) => readSettled(deps, row)));
}

// --- Compare, swap, discard ----------------------------------------------------------------------------------------

/** The backfill, settled, in one of `states`; PRECONDITION_FAILED saying what it is instead. */
async function requireState(
  deps: BackfillDeps,
  workspaceId: string,
  id: string,
  states: readonly BackfillState[],
  action: string,
): Promise<BackfillRow & { sinkConnection: string }> {
  const found = await findRow(deps, workspaceId, id);
  const live = found.runId && found.state === "FILLING" ? await readLiveRun(deps, found.runId) : undefined;
  const row = await settle(deps, found, live);
  if (!states.includes(row.state)) {
    const now = row.state === "FILLING" ? "still filling: wait for its run to complete" : `${row.state.toLowerCase()}`;
    fail("PRECONDITION_FAILED", `cannot ${action} this backfill: it is ${now}`);
  }
  const definition = row.run?.version.definition as PipelineDefinition | undefined;
  const node = definition?.spec.nodes.find((n) => n.id === row.sinkNodeId);
  let connection = node?.type === "sink.postgres" ? node.config.connection : undefined;
  if (typeof connection !== "string" || connection.includes("{{")) {
    // Named through a parameter (or the run is gone): the pipeline's latest version, checked, names it.
    const latest = await loadVersion(deps, workspaceId, row.pipelineId).catch(() => undefined);
    const sinkNode = latest?.checked.definition.spec.nodes.find((n) => n.id === row.sinkNodeId);
    const c = latest?.checked.configs[row.sinkNodeId] as Partial<PostgresSinkConfig> | undefined;
    connection = sinkNode?.type === "sink.postgres" ? c?.connection : undefined;
  }
  if (typeof connection !== "string") {
    fail("PRECONDITION_FAILED", `the pipeline no longer has the PostgreSQL sink "${row.sinkNodeId}"`);
  }
  return { ...row, sinkConnection: connection };
}

export async function compareBackfill(
  deps: BackfillDeps,
  workspaceId: string,
  input: z.output<typeof CompareInput>,
): Promise<BackfillView> {
  const row = await requireState(deps, workspaceId, input.id, ["FILLED", "COMPARED"], "compare");
  const comparison = await onSink(deps, workspaceId, row.sinkConnection, async (client) => {
    const live = await liveTableOf(client, row.liveTable);
    const shadow = qualified(row.shadowTable);
    if (!(await tableExists(client, shadow))) {
      fail("PRECONDITION_FAILED", `the shadow table ${row.shadowTable} is gone`);
    }
    try {
      return await compareTables(client, live, shadow, input.ignoreColumns);
    } catch (err) {
      if ((err as Error).message.startsWith("ignoreColumns:")) fail("BAD_REQUEST", (err as Error).message);
      throw err;
    }
  });
  await deps.db.backfill.updateMany({
    where: { id: row.id, state: { in: ["FILLED", "COMPARED"] } },
    data: { state: "COMPARED", comparison: comparison as unknown as Prisma.InputJsonValue },
  });
  return getBackfill(deps, workspaceId, row.id);
}

export async function swapBackfill(
  deps: BackfillDeps,
  workspaceId: string,
  input: z.output<typeof SwapInput>,
): Promise<BackfillView & { carried: number }> {
  const row = await requireState(deps, workspaceId, input.id, ["FILLED", "COMPARED"], "swap");
  // Claimed before the tables move, so two swaps of one backfill cannot both run.
  const claimed = await deps.db.backfill.updateMany({
    where: { id: row.id, state: row.state },
    data: { state: "SWAPPED", swappedAt: new Date() },
  });
  if (claimed.count === 0) fail("CONFLICT", "this backfill changed at the same moment; look again");
  try {
    const result = await onSink(deps, workspaceId, row.sinkConnection, async (client) => {
      const live = await liveTableOf(client, row.liveTable);
      const shadow = qualified(row.shadowTable);
      if (!(await tableExists(client, shadow))) {
        fail("PRECONDITION_FAILED", `the shadow table ${row.shadowTable} is gone`);
      }
      let previous: { schema: string; name: string };
      try {
        previous = siblingName(live, `__prev_g${row.generation}`);
      } catch (err) {
        fail("BAD_REQUEST", (err as Error).message);
      }
      if (await tableExists(client, previous)) {
        fail("PRECONDITION_FAILED", `the table ${tableText(previous)} exists already: drop or rename it first`);
      }
      const { carried } = await swapTables(client, live, shadow, previous, input.keepUnmatched);
      return { carried, previous: tableText(previous) };
    });
    await deps.db.backfill.update({ where: { id: row.id }, data: { previousTable: result.previous } });
    return { ...(await getBackfill(deps, workspaceId, row.id)), carried: result.carried };
  } catch (err) {
    await deps.db.backfill.update({ where: { id: row.id }, data: { state: row.state, swappedAt: null } });
    throw err;
  }
}

/** Drops the shadow table without a swap (stopping the run first when it is still filling). */
export async function discardBackfill(deps: BackfillDeps, workspaceId: string, id: string): Promise<BackfillView> {
  const row = await requireState(deps, workspaceId, id, ["FILLING", "FILLED", "COMPARED", "FAILED"], "discard");
  if (row.runId && row.run && ACTIVE_DB_STATUSES.includes(row.run.status)) {
    await requestStop(deps.redis, deps.keys, row.runId, deps.runRetentionMs ?? 7 * 86_400_000);
  }
  await onSink(deps, workspaceId, row.sinkConnection, (client) => dropTable(client, qualified(row.shadowTable)));
  await deps.db.backfill.update({ where: { id: row.id }, data: { state: "DISCARDED" } });
  return getBackfill(deps, workspaceId, row.id);
}

/** Drops the table a swap kept under `<live>__prev_g<n>`. */
export async function dropPreviousTable(deps: BackfillDeps, workspaceId: string, id: string): Promise<BackfillView> {
  const row = await requireState(deps, workspaceId, id, ["SWAPPED"], "drop the previous table of");
  if (!row.previousTable) fail("PRECONDITION_FAILED", "the previous table was dropped already");
  const previous = row.previousTable;
  await onSink(deps, workspaceId, row.sinkConnection, async (client) => {
    const live = await liveTableOf(client, row.liveTable);
    await dropKeptTable(client, qualified(previous), { schema: live.schema, name: live.name });
  });
  await deps.db.backfill.update({ where: { id: row.id }, data: { previousTable: null } });
  return getBackfill(deps, workspaceId, row.id);
}
