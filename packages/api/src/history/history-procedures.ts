import { workspaceProcedure } from "../trpc";
import { pipelineHistory, runHistory } from "./history-query";
import { DEFAULT_HISTORY_RETENTION_MS } from "./history-retention";
import { HistoryView, PipelineHistoryInput, PipelineHistoryView, RunHistoryInput } from "./history-router.types";

// History is read by any member of the run's workspace, like its live figures (runs.figures).

/** runs.history: a run's rolled-up node and edge figures over a range. */
export const runHistoryProcedure = workspaceProcedure
  .input(RunHistoryInput)
  .output(HistoryView)
  .query(({ ctx, input }) =>
    runHistory({ db: ctx.db, retention: ctx.historyRetention ?? DEFAULT_HISTORY_RETENTION_MS }, ctx.workspaceId, input),
  );

/** pipelines.history: the same across the pipeline's runs. */
export const pipelineHistoryProcedure = workspaceProcedure
  .input(PipelineHistoryInput)
  .output(PipelineHistoryView)
  .query(({ ctx, input }) =>
    pipelineHistory(
      { db: ctx.db, retention: ctx.historyRetention ?? DEFAULT_HISTORY_RETENTION_MS },
      ctx.workspaceId,
      input,
    ),
  );
