import { randomBytes } from "node:crypto";
import type { Db } from "@sluice/db/client";
import type { Prisma } from "@sluice/db/generated/prisma/client";
import { ACTIVE_DB_STATUSES } from "@sluice/pipeline/control/run-status";
import { TRPCError } from "@trpc/server";
import type { z } from "zod";
import { type AuditActor, recordAudit } from "../audit/audit-log";
import { type MirrorDeps, mirrorSchedule } from "../schedules/schedule-mirror";
import { type WorkspaceActor, withLockedWorkspace } from "./workspace-lock";
import type { DeleteWorkspaceInput } from "./workspace-router.types";

// Workspaces themselves: made by anyone signed in (who becomes their owner), renamed by admins, deleted by owners.

/** A user may belong to at most this many workspaces when making another: a bound on what one account can make. */
export const MAX_WORKSPACES_PER_USER = 100;

function slugFor(name: string): string {
  const base = name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "")
    .slice(0, 40);
  return `${base || "workspace"}-${randomBytes(3).toString("hex")}`;
}

/** A new workspace with `ownerId` as its owner, inside the caller's transaction (sign-up makes one this way too). */
export async function createOwnedWorkspace(
  tx: Prisma.TransactionClient,
  ownerId: string,
  name: string,
): Promise<{ id: string; name: string }> {
  const workspace = await tx.workspace.create({
    data: { name, slug: slugFor(name) },
    select: { id: true, name: true },
  });
  await tx.membership.create({ data: { userId: ownerId, workspaceId: workspace.id, role: "OWNER" } });
  return workspace;
}

export async function createWorkspace(
  db: Db,
  userId: string,
  name: string,
  /** Who the new workspace's first audit entry names. */
  actor: AuditActor,
): Promise<{ id: string; name: string }> {
  const held = await db.membership.count({ where: { userId } });
  if (held >= MAX_WORKSPACES_PER_USER) {
    throw new TRPCError({
      code: "PRECONDITION_FAILED",
      message: `you belong to ${held} workspaces, the most one account may; leave one before making another`,
    });
  }
  return db.$transaction(async (tx) => {
    const workspace = await createOwnedWorkspace(tx, userId, name);
    await recordAudit(tx, workspace.id, actor, {
      action: "workspaces.create",
      target: { type: "workspace", id: workspace.id, name: workspace.name },
      details: null,
    });
    return workspace;
  });
}

export async function renameWorkspace(
  db: Db,
  workspaceId: string,
  name: string,
): Promise<{ id: string; name: string }> {
  return db.workspace.update({ where: { id: workspaceId }, data: { name }, select: { id: true, name: true } });
}

/**
 * Deletes the workspace and everything in it, once its name is typed again and none of its runs is active (a run
 * still on the workers would be cut off from its rows). Its schedules' timers in Redis are removed afterwards.
 */
export async function deleteWorkspace(
  deps: MirrorDeps,
  actor: WorkspaceActor,
  input: z.output<typeof DeleteWorkspaceInput>,
): Promise<void> {
  const scheduleIds = await withLockedWorkspace(deps.db, actor, async ({ tx, workspace, actorRole }) => {
    if (actorRole !== "OWNER") {
      throw new TRPCError({ code: "FORBIDDEN", message: "only an owner can delete the workspace" });
    }
    if (input.confirmName !== workspace.name) {
      throw new TRPCError({
        code: "BAD_REQUEST",
        message: `confirmName: type the workspace's name, ${workspace.name}, to delete it`,
      });
    }
    const active = await tx.run.count({
      where: { workspaceId: workspace.id, status: { in: [...ACTIVE_DB_STATUSES] } },
    });
    if (active > 0) {
      throw new TRPCError({
        code: "PRECONDITION_FAILED",
        message: `${active} run${active === 1 ? " is" : "s are"} still active in this workspace: stop ${active === 1 ? "it" : "them"} first`,
      });
    }
    const schedules = await tx.schedule.findMany({ where: { workspaceId: workspace.id }, select: { id: true } });
    await tx.workspace.delete({ where: { id: workspace.id } });
    return schedules.map((s) => s.id);
  });
  // The rows are gone: mirroring each schedule removes its job scheduler. One that fails here is removed by the
  // start-up sync (syncSchedules), and a fire that comes first finds no schedule and starts nothing.
  for (const id of scheduleIds) await mirrorSchedule(deps, id).catch(() => {});
}
