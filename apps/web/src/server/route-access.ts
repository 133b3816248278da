import type { Access } from "@sluice/api/trpc";

// Who may call each HTTP route under src/app/api: one declaration per route file, keyed by its folder. Next.js
// refuses exports it does not know from a route.ts, so the rule lives here rather than beside the handler;
// route-access.test.ts lists the route files from the file system and fails on one without an entry here (or an
// entry without a route).

type RouteAccess =
  /** Anyone, signed in or not. */
  | Extract<Access, "public">
  /** The pipeline's ingest token (`Authorization: Bearer …`), checked by the endpoint; no session involved. */
  | "ingestToken"
  /** SLUICE_METRICS_TOKEN (`Authorization: Bearer …`), checked by the endpoint; unset, the route answers 404. */
  | "metricsToken"
  /** The tRPC endpoint: each procedure carries its own rule (`meta.access`, set by the ladder in trpc.ts). */
  | "perProcedure";

export const ROUTE_ACCESS = {
  "api/health": "public",
  "api/ingest/[pipeline]": "ingestToken",
  "api/metrics": "metricsToken",
  "api/trpc/[trpc]": "perProcedure",
} as const satisfies Record<string, RouteAccess>;
