import { createTRPCRouter, workspaceProcedure } from "../trpc";
import { OverviewInput, OverviewView } from "./overview-router.types";
import { readOverview } from "./overview-service";

export const overviewRouter = createTRPCRouter({
  /** Any member: the workspace's going runs with their health, its failures of the last hour, its worst laggards. */
  get: workspaceProcedure
    .input(OverviewInput)
    .output(OverviewView)
    .query(({ ctx, input }) =>
      readOverview({ db: ctx.db, redis: ctx.redis, keys: ctx.keys }, ctx.workspaceId, input ?? {}),
    ),
});
