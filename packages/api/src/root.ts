import { alertRouter } from "./alerts/alert-router";
import { authRouter } from "./auth/auth-router";
import { connectionRouter } from "./connections/connection-router";
import { fleetRouter } from "./fleet/fleet-router";
import { ingestRouter } from "./ingest/ingest-router";
import { overviewRouter } from "./overview/overview-router";
import { pipelineRouter } from "./pipelines/pipeline-router";
import { runRouter } from "./runs/run-router";
import { scheduleRouter } from "./schedules/schedule-router";
import { createCallerFactory, createTRPCRouter } from "./trpc";

export const appRouter = createTRPCRouter({
  alerts: alertRouter,
  auth: authRouter,
  connections: connectionRouter,
  fleet: fleetRouter,
  ingest: ingestRouter,
  overview: overviewRouter,
  pipelines: pipelineRouter,
  runs: runRouter,
  schedules: scheduleRouter,
});

export type AppRouter = typeof appRouter;

export const createCaller = createCallerFactory(appRouter);
