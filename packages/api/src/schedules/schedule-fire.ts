import { ACTIVE_DB_STATUSES } from "@sluice/pipeline/control/run-status";
import { TRPCError } from "@trpc/server";
import { ParameterValues } from "../runs/run-router.types";
import { type StartRunDeps, startRun } from "../runs/run-service";
import { withAdvisoryLock } from "./advisory-lock";
import type { FireResult } from "./schedule-router.types";

// What happens when a schedule fires: apply the overlap policy, start the run through the run service as the
// schedule's creator, and record the outcome on the schedule.
//
// Safe with several web processes and with BullMQ re-delivering a job:
// - all starts by schedules of one pipeline take one advisory lock, so "is a run active? then start one" is atomic
//   among them (a cron fire, a waiting QUEUE fire and "run now" cannot both start);
// - a cron fire first claims its slot (the schedule's lastSlotAt moves forward, conditionally): the same slot, or an
//   older one overtaken by a newer fire, claims nothing. The claim commits before the run starts, so a process that
//   dies in between loses that one fire rather than ever starting two runs for it.

/** What starting a run needs (the database, the control queue, the node and connection types, the secret key). */
export type FireDeps = StartRunDeps;

export type FireTrigger =
  /** The job scheduler's fire for the slot `at` (the time the pattern named). */
  | { kind: "slot"; at: Date }
  /** "Run now": fires at once, whether or not the schedule is enabled; overlap policy as usual. */
  | { kind: "manual" }
  /** A QUEUE fire that waited for the pipeline's active run to end. */
  | { kind: "pending" };

function pipelineStartLock(pipelineId: string): string {
  return `sluice:pipeline-start:${pipelineId}`;
}

function ignored(message: string): FireResult {
  return { outcome: "IGNORED", runId: null, message };
}

export async function fireSchedule(
  deps: FireDeps,
  scheduleId: string,
  trigger: FireTrigger,
  now = new Date(),
): Promise<FireResult> {
  const head = await deps.db.schedule.findUnique({ where: { id: scheduleId }, select: { pipelineId: true } });
  if (!head) return ignored("the schedule no longer exists");
  return withAdvisoryLock(deps.db, pipelineStartLock(head.pipelineId), () =>
    fireLocked(deps, scheduleId, trigger, now),
  );
}

async function fireLocked(deps: FireDeps, scheduleId: string, trigger: FireTrigger, now: Date): Promise<FireResult> {
  const { db } = deps;
  const schedule = await db.schedule.findUnique({ where: { id: scheduleId } });
  if (!schedule) return ignored("the schedule no longer exists");
  // Disabling drops a waiting fire, so one that waits on a disabled schedule came from "run now": it may start.
  if (!schedule.enabled && trigger.kind === "slot") return ignored("the schedule is disabled");
  if (trigger.kind === "pending" && !schedule.pendingSince) return ignored("no fire is waiting");
  if (trigger.kind === "slot") {
    const claimed = await db.schedule.updateMany({
      where: { id: scheduleId, OR: [{ lastSlotAt: null }, { lastSlotAt: { lt: trigger.at } }] },
      data: { lastSlotAt: trigger.at },
    });
    if (claimed.count === 0) return ignored(`the fire for ${trigger.at.toISOString()} was already handled`);
  }

  type Recorded = FireResult & { outcome: Exclude<FireResult["outcome"], "IGNORED"> };
  type Changes = { lastRunId?: string; pendingSince?: Date | null };
  const record = async (result: Recorded, changes: Changes = {}): Promise<FireResult> => {
    await db.schedule.updateMany({
      where: { id: scheduleId },
      data: {
        lastOutcome: result.outcome,
        lastMessage: result.message,
        // A waiting fire that starts now was already counted as a fire when it was queued.
        ...(trigger.kind === "pending" ? {} : { lastFiredAt: now }),
        ...changes,
      },
    });
    return result;
  };
  const overlapping = (why: string): Promise<FireResult> => {
    if (trigger.kind === "pending") return Promise.resolve(ignored(`${why}: the waiting fire waits on`));
    if (schedule.overlap === "QUEUE" && !schedule.pendingSince) {
      return record({ outcome: "QUEUED", runId: null, message: `${why}: starts when it ends` }, { pendingSince: now });
    }
    if (schedule.overlap === "QUEUE") {
      return record({ outcome: "SKIPPED", runId: null, message: `${why}, and an earlier fire already waits for it` });
    }
    return record({ outcome: "SKIPPED", runId: null, message: why });
  };

  const active = await db.run.findFirst({
    where: { pipelineId: schedule.pipelineId, status: { in: [...ACTIVE_DB_STATUSES] } },
    orderBy: { createdAt: "desc" },
    select: { id: true, status: true },
  });
  if (active) return overlapping(`run ${active.id} is still ${active.status.toLowerCase()}`);

  // Runs start as the schedule's creator: someone who has since lost edit rights must not keep starting runs.
  const membership = await db.membership.findUnique({
    where: { userId_workspaceId: { userId: schedule.createdById, workspaceId: schedule.workspaceId } },
    select: { role: true },
  });
  if (!membership || membership.role === "VIEWER") {
    return record(
      {
        outcome: "FAILED",
        runId: null,
        message:
          "runs start as the schedule's creator, who can no longer edit this workspace: delete the schedule and create it again",
      },
      { pendingSince: null },
    );
  }
  const parameters = ParameterValues.safeParse(schedule.parameters);
  if (!parameters.success) {
    return record(
      { outcome: "FAILED", runId: null, message: `the stored parameters are malformed: ${parameters.error.message}` },
      { pendingSince: null },
    );
  }

  try {
    const { id } = await startRun(
      deps,
      { workspaceId: schedule.workspaceId, userId: schedule.createdById },
      { pipelineId: schedule.pipelineId, version: schedule.version ?? undefined, parameters: parameters.data },
    );
    const waited = trigger.kind === "pending" && schedule.pendingSince;
    const message = waited
      ? `started run ${id} for the fire of ${schedule.pendingSince!.toISOString()}, which waited for the previous run`
      : `started run ${id}`;
    return record({ outcome: "STARTED", runId: id, message }, { lastRunId: id, pendingSince: null });
  } catch (err) {
    // Someone started a run by hand at the same moment (manual starts do not take the lock).
    if (err instanceof TRPCError && err.code === "CONFLICT")
      return overlapping("another run of the pipeline is active");
    // A failure no retry of this fire would fix (invalid version, bad parameters, Redis unreachable) is recorded;
    // the next fire tries again. A waiting fire is used up by it rather than retried every second.
    const message = err instanceof Error ? err.message : String(err);
    return record(
      { outcome: "FAILED", runId: null, message: `could not start a run: ${message}` },
      { pendingSince: null },
    );
  }
}

/**
 * Starts the runs of QUEUE fires whose pipeline has no active run any more. Called every second or so by each web
 * process; the lock and the re-check inside fireSchedule make concurrent callers start each waiting fire once.
 */
export async function startPendingFires(deps: FireDeps, limit = 100): Promise<number> {
  const waiting = await deps.db.schedule.findMany({
    where: {
      pendingSince: { not: null },
      pipeline: { runs: { none: { status: { in: [...ACTIVE_DB_STATUSES] } } } },
    },
    orderBy: { pendingSince: "asc" },
    take: limit,
    select: { id: true },
  });
  let started = 0;
  for (const { id } of waiting) {
    const result = await fireSchedule(deps, id, { kind: "pending" });
    if (result.outcome === "STARTED") started++;
  }
  return started;
}
