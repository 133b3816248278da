import { createTRPCRouter, workspaceProcedure } from "../trpc";
import { FleetView } from "./fleet-router.types";
import { fleetQueuesFor, listFleet } from "./fleet-service";

export const fleetRouter = createTRPCRouter({
  /**
   * Any member: the fleet is the installation's shared infrastructure (docs/security.md says what a member learns
   * from it). Runs of other workspaces are counted, never named.
   */
  list: workspaceProcedure
    .output(FleetView)
    .query(({ ctx }) =>
      listFleet({ db: ctx.db, redis: ctx.redis, keys: ctx.keys, queues: fleetQueuesFor(ctx) }, ctx.workspaceId),
    ),
});
