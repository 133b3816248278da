import type { Access } from "@sluice/api/trpc";

// Who may call each HTTP route under src/app/api: one declaration per route file, keyed by its folder. Next.js
// refuses exports it does not know from a route.ts, so the rule lives here rather than beside the handler;
// route-access.test.ts lists the route files from the file system and fails on one without an entry here (or an
// entry without a route).

type RouteAccess =
  /** Anyone, signed in or not. */
  | Extract<Access, "public">
  /**
   * An API token with the `ingest` scope (`Authorization: Bearer …`), checked by the endpoint: the pipeline's own
   * ingest token, or a personal or workspace token of its workspace acting as an editor or above. No session.
   */
  | "ingestScope"
  /**
   * SLUICE_METRICS_TOKEN (`Authorization: Bearer …`) for the whole installation, or an API token with the `read`
   * scope for its workspace's runs; checked by the endpoint. Without either, 401 (404 while the former is unset).
   */
  | "metricsTokenOrReadScope"
  /** The tRPC endpoint: each procedure carries its own rule (`meta.access`, set by the ladder in trpc.ts). */
  | "perProcedure"
  /** The rule of the procedure the route calls before it answers (audit.exportPlan: admins, a token's `read`). */
  | "asProcedure:audit.exportPlan"
  /**
   * The rule of the procedure the route calls before it answers: savedQueries.exportPlan (any member, a token's
   * `read`) for a saved query, queries.exportPlan (editors, a token's `read`) for ad-hoc SQL.
   */
  | "asProcedure:savedQueries.exportPlan|queries.exportPlan";

export const ROUTE_ACCESS = {
  "api/audit/export": "asProcedure:audit.exportPlan",
  "api/health": "public",
  "api/ingest/[pipeline]": "ingestScope",
  "api/metrics": "metricsTokenOrReadScope",
  "api/queries/export": "asProcedure:savedQueries.exportPlan|queries.exportPlan",
  "api/trpc/[trpc]": "perProcedure",
} as const satisfies Record<string, RouteAccess>;
