import { randomUUID } from "node:crypto";
import {
  type PreviewJob,
  PreviewResult,
  PreviewStopped,
  previewConnectionsContext,
  WORKER_TTL_MS,
} from "@sluice/pipeline/control/protocol";
import type { PipelineDefinition } from "@sluice/pipeline/definition";
import { problemSentence } from "@sluice/pipeline/issues";
import type { ParameterValue } from "@sluice/pipeline/parameters";
import { validate } from "@sluice/pipeline/validate";
import { TRPCError } from "@trpc/server";
import { Job } from "bullmq";
import {
  runConnectionBundle,
  runConnectionNames,
  sealConnections,
  workspaceConnectionTypes,
} from "../connections/run-connections";
import type { ApiDeps } from "../context";
import { checkDefinitionLimits } from "./pipeline-service";

// The editor's data preview: the draft, as it is on screen, runs on a sample on a worker (the API runs no
// pipeline code itself) and comes back with each node's input and output records. Nothing is written anywhere.

const POLL_MS = 50;
/**
 * Beyond the preview's own time: the worker kills it a second after that, and before it may have to start the
 * preview's thread (a second or two) and take the job off the queue.
 */
const ANSWER_MARGIN_MS = 15_000;

export interface PreviewInput {
  definition: PipelineDefinition;
  parameters: Record<string, ParameterValue>;
  limit: number;
  timeoutMs: number;
}

export async function previewDraft(deps: ApiDeps, workspaceId: string, input: PreviewInput): Promise<PreviewResult> {
  checkDefinitionLimits(input.definition);
  const checked = validate(input.definition, deps.catalog, {
    parameters: input.parameters,
    connections: await workspaceConnectionTypes(deps.db, workspaceId),
  });
  const errors = checked.issues.filter((i) => i.severity === "error");
  if (errors.length > 0 || !checked.definition) {
    // Answered here: no worker is needed to say the draft is not ready.
    return {
      nodes: {},
      problems: errors.slice(0, 20).map(problemSentence),
      truncated: false,
      elapsedMs: 0,
    };
  }
  if ((await deps.redis.zcount(deps.keys.workers, Date.now() - WORKER_TTL_MS, "+inf")) === 0) {
    const message = "no worker is running to compute the preview: start one (npm start starts one)";
    throw new TRPCError({ code: "PRECONDITION_FAILED", message });
  }
  const jobId = `preview-${randomUUID()}`;
  const connections = await runConnectionBundle(
    deps,
    workspaceId,
    runConnectionNames(checked.definition, checked.configs, deps.catalog),
  );
  const job: PreviewJob = {
    v: 1,
    definition: checked.definition,
    parameters: input.parameters,
    limit: input.limit,
    timeoutMs: input.timeoutMs,
    workspaceId,
    ...(connections ? { connections: await sealConnections(connections, previewConnectionsContext(jobId)) } : {}),
  };
  await deps.previewQueue.add("preview", job, { jobId, removeOnComplete: { age: 300 }, removeOnFail: { age: 300 } });
  const started = Date.now();
  const deadline = started + input.timeoutMs + ANSWER_MARGIN_MS;
  for (;;) {
    // State first, then the job: a job read before it finished would carry no result even if the state read just
    // after says "completed". Once completed or failed, a job no longer changes.
    const state = await deps.previewQueue.getJobState(jobId);
    const current = await Job.fromId(deps.previewQueue, jobId);
    if (state === "completed") {
      // Stopped at the worker's time or memory limit: the draft is the cause, so it is the caller's to change.
      const stopped = PreviewStopped.safeParse(current?.returnvalue);
      if (stopped.success) throw new TRPCError({ code: "UNPROCESSABLE_CONTENT", message: stopped.data.message });
      return PreviewResult.parse(current?.returnvalue);
    }
    if (state === "failed")
      throw new TRPCError({ code: "INTERNAL_SERVER_ERROR", message: `the preview failed: ${current?.failedReason}` });
    if (Date.now() > deadline) {
      await current?.remove().catch(() => {});
      const message = `no worker answered the preview within ${Math.round((deadline - started) / 1000)} s; the workers may be busy: try again, or with fewer records`;
      throw new TRPCError({ code: "TIMEOUT", message });
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}
