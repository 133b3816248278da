import { readRunSnapshot, readTail } from "@sluice/pipeline/control/run-reader";
import { isTerminal } from "@sluice/pipeline/control/run-status";
import { tracked } from "@trpc/server";
import { z } from "zod";
import { runHistoryProcedure } from "../history/history-procedures";
import { createTRPCRouter, editorProcedure, withScope, workspaceProcedure } from "../trpc";
import {
  discardDeadLetters,
  fixDeadLetterByHand,
  fixDeadLettersWithExpression,
  previewDeadLetterFix,
  replayDeadLetters,
} from "./dead-letter-actions";
import { listDeadLetterGroups, listDeadLetterPage } from "./dead-letters";
import { pauseRun, restartRun, resumeRun } from "./run-control";
import { runFigureStream } from "./run-figure-stream";
import { checkRun, listRunLogs, tailStep } from "./run-logs";
import {
  DeadLetterGroupsView,
  DeadLetterPageView,
  DeadLettersInput,
  DiscardInput,
  FixInput,
  FixOneInput,
  FixPreviewInput,
  FixPreviewView,
  ListRunsInput,
  LiveRunInput,
  ReplayInput,
  RestartRunInput,
  RunEventView,
  RunId,
  RunLogPageView,
  RunLogsInput,
  RunLogTailInput,
  RunView,
  StartRunInput,
  TailInput,
} from "./run-router.types";
import { getRun, listRuns, startRun, stopRun } from "./run-service";
import { readRunTimeline } from "./run-timeline";

const LIVE_INTERVAL_MS = 1000;

/** Starting and steering runs: an API token needs the `run` scope for it, `write` is not enough. */
const runControl = withScope(editorProcedure, "run");

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}

export const runRouter = createTRPCRouter({
  start: runControl
    .input(StartRunInput)
    .output(z.object({ id: z.string(), version: z.number() }))
    .mutation(({ ctx, input }) => startRun(ctx, { workspaceId: ctx.workspaceId, userId: ctx.session.user.id }, input)),
  stop: runControl
    .input(z.strictObject({ runId: RunId }))
    .mutation(({ ctx, input }) => stopRun(ctx, ctx.workspaceId, input.runId)),
  pause: runControl
    .input(z.strictObject({ runId: RunId }))
    .mutation(({ ctx, input }) => pauseRun(ctx, ctx.workspaceId, input.runId)),
  resume: runControl
    .input(z.strictObject({ runId: RunId }))
    .mutation(({ ctx, input }) => resumeRun(ctx, ctx.workspaceId, input.runId)),
  /** Continue a finished run from its last commit, or with `reset` start it over. */
  restart: runControl
    .input(RestartRunInput)
    .mutation(({ ctx, input }) => restartRun(ctx, ctx.workspaceId, input.runId, input.reset)),
  /** A page of the run's dead letters, newest first, with the run's total; `next` is the cursor of the page after. */
  deadLetters: workspaceProcedure
    .input(DeadLettersInput)
    .output(DeadLetterPageView)
    .query(({ ctx, input }) => listDeadLetterPage(ctx, ctx.workspaceId, input.runId, input)),
  /** All the run's dead letters grouped by node and reason (numbers and quoted values taken out), with counts. */
  deadLetterGroups: workspaceProcedure
    .input(z.strictObject({ runId: RunId }))
    .output(DeadLetterGroupsView)
    .query(({ ctx, input }) => listDeadLetterGroups(ctx, ctx.workspaceId, input.runId)),
  /** Send dead letters back where they failed (the ids, a group, or all), into the running job; each at most once. */
  replayDeadLetters: editorProcedure
    .input(ReplayInput)
    .mutation(({ ctx, input }) =>
      replayDeadLetters(ctx, ctx.workspaceId, input.runId, input, { name: ctx.session.user.name }),
    ),
  /** Remove dead letters for good with a reason; they are counted as discarded and the reason is on the timeline. */
  discardDeadLetters: editorProcedure
    .input(DiscardInput)
    .mutation(({ ctx, input }) =>
      discardDeadLetters(ctx, ctx.workspaceId, input.runId, input, input.reason, { name: ctx.session.user.name }),
    ),
  /** What a fix expression makes of the first few of the letters it would fix; changes nothing. */
  previewDeadLetterFix: editorProcedure
    .input(FixPreviewInput)
    .output(FixPreviewView)
    .query(({ ctx, input }) => previewDeadLetterFix(ctx, ctx.workspaceId, input.runId, input, input.expression)),
  /** Fix dead letters' records with assignments (`price = CAST(price AS double)`), and replay them if asked. */
  fixDeadLetters: editorProcedure.input(FixInput).mutation(({ ctx, input }) =>
    fixDeadLettersWithExpression(ctx, ctx.workspaceId, input.runId, input, input.expression, input.replay, {
      name: ctx.session.user.name,
    }),
  ),
  /** Replace one dead letter's record with JSON written by hand, and replay it if asked. */
  fixDeadLetter: editorProcedure.input(FixOneInput).mutation(({ ctx, input }) =>
    fixDeadLetterByHand(ctx, ctx.workspaceId, input.runId, input.id, input.record, input.replay, {
      name: ctx.session.user.name,
    }),
  ),
  list: workspaceProcedure
    .input(ListRunsInput)
    .output(z.array(RunView))
    .query(({ ctx, input }) => listRuns(ctx.db, ctx.workspaceId, input)),
  get: workspaceProcedure
    .input(z.strictObject({ runId: RunId }))
    .output(RunView)
    .query(({ ctx, input }) => getRun(ctx.db, ctx.workspaceId, input.runId)),
  /** What happened to the run, oldest first: transitions, restarts, takeovers, retries (run-timeline.ts). */
  timeline: workspaceProcedure
    .input(z.strictObject({ runId: RunId }))
    .output(z.array(RunEventView))
    .query(({ ctx, input }) => readRunTimeline(ctx, ctx.workspaceId, input.runId)),
  /** A page of the workers' log lines about the run, newest first, by level and node (run-logs.ts). */
  logs: workspaceProcedure
    .input(RunLogsInput)
    .output(RunLogPageView)
    .query(({ ctx, input }) => listRunLogs(ctx, ctx.workspaceId, input.runId, input)),
  /** The run's log lines as they arrive over SSE: the newest first, then each second's, ending after the run does. */
  logTail: workspaceProcedure.input(RunLogTailInput).subscription(async function* ({ ctx, input, signal }) {
    await checkRun(ctx.db, ctx.workspaceId, input.runId);
    let since: string | undefined;
    while (!signal?.aborted) {
      const step = await tailStep(ctx, input.runId, since, input);
      since = step.since;
      if (step.lines.length > 0) yield step.lines;
      if (step.more) continue;
      if (step.ended) return;
      await sleep(LIVE_INTERVAL_MS, signal);
    }
  }),
  /** Rolled-up node figures over a time range (history/). */
  history: runHistoryProcedure,
  /** Live status and per-node counters once a second over SSE, ending after the run does. */
  live: workspaceProcedure.input(LiveRunInput).subscription(async function* ({ ctx, input, signal }) {
    await getRun(ctx.db, ctx.workspaceId, input.runId); // workspace check
    while (!signal?.aborted) {
      const snapshot = await readRunSnapshot(ctx.redis, ctx.keys, input.runId);
      if (snapshot) {
        yield tracked(String(snapshot.at), snapshot);
        if (isTerminal(snapshot.status)) return;
      }
      await sleep(LIVE_INTERVAL_MS, signal);
    }
  }),
  /** Per-second figures per node and shuffle edge (rates, latency, lag, backlog) over SSE, ending with the run. */
  figures: workspaceProcedure.input(LiveRunInput).subscription(async function* ({ ctx, input, signal }) {
    await getRun(ctx.db, ctx.workspaceId, input.runId); // workspace check
    yield* runFigureStream(ctx, input.runId, input.lastEventId, signal);
  }),
  /** The newest records a console sink of the run kept. */
  tail: workspaceProcedure.input(TailInput).query(async ({ ctx, input }) => {
    await getRun(ctx.db, ctx.workspaceId, input.runId); // workspace check
    return readTail(ctx.redis, ctx.keys, input.runId, input.nodeId, input.limit);
  }),
});
