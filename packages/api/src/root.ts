import { alertRouter } from "./alerts/alert-router";
import { auditRouter } from "./audit/audit-router";
import { authRouter } from "./auth/auth-router";
import { backfillRouter } from "./backfills/backfill-router";
import { connectionRouter } from "./connections/connection-router";
import { dashboardRouter } from "./dashboards/dashboard-router";
import { fleetRouter } from "./fleet/fleet-router";
import { ingestRouter } from "./ingest/ingest-router";
import { overviewRouter } from "./overview/overview-router";
import { pipelineRouter } from "./pipelines/pipeline-router";
import { queryRouter } from "./queries/query-router";
import { reportRouter } from "./reports/report-router";
import { runRouter } from "./runs/run-router";
import { savedQueryRouter } from "./saved-queries/saved-query-router";
import { scheduleRouter } from "./schedules/schedule-router";
import { shareRouter } from "./shares/share-router";
import { templateRouter } from "./templates/template-router";
import { tokenRouter } from "./tokens/token-router";
import { createCallerFactory, createTRPCRouter } from "./trpc";
import { invitationRouter } from "./workspaces/invitation-router";
import { memberRouter } from "./workspaces/member-router";
import { workspaceRouter } from "./workspaces/workspace-router";

export const appRouter = createTRPCRouter({
  alerts: alertRouter,
  audit: auditRouter,
  backfills: backfillRouter,
  auth: authRouter,
  connections: connectionRouter,
  dashboards: dashboardRouter,
  fleet: fleetRouter,
  ingest: ingestRouter,
  invitations: invitationRouter,
  members: memberRouter,
  overview: overviewRouter,
  pipelines: pipelineRouter,
  queries: queryRouter,
  reports: reportRouter,
  runs: runRouter,
  savedQueries: savedQueryRouter,
  schedules: scheduleRouter,
  shares: shareRouter,
  templates: templateRouter,
  tokens: tokenRouter,
  workspaces: workspaceRouter,
});

export type AppRouter = typeof appRouter;

export const createCaller = createCallerFactory(appRouter);
