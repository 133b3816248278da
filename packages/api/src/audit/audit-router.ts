import { TRPCError } from "@trpc/server";
import { adminProcedure, createTRPCRouter } from "../trpc";
import { listAudit } from "./audit-log";
import { AuditExportInput, AuditPage, ListAuditInput } from "./audit-router.types";

// The workspace's audit log, for admins and owners: a page at a time with filters, and an export. The export itself
// streams from GET /api/audit/export, which calls `exportPlan` first so the ladder's rules (role, token scope, rate
// limit) decide who may export, exactly as for any procedure.

export const auditRouter = createTRPCRouter({
  list: adminProcedure
    .input(ListAuditInput)
    .output(AuditPage)
    .query(({ ctx, input }) => {
      const { cursor, limit, direction: _, ...filter } = input;
      if (filter.from && filter.to && filter.from >= filter.to) {
        throw new TRPCError({ code: "BAD_REQUEST", message: "from: must be before to" });
      }
      return listAudit(ctx.db, ctx.workspaceId, filter, { cursor, limit });
    }),
  /** Checks an export request and names the workspace it reads; the rows come from the export route. */
  exportPlan: adminProcedure.input(AuditExportInput).query(({ ctx, input }) => {
    if (input.from && input.to && input.from >= input.to) {
      throw new TRPCError({ code: "BAD_REQUEST", message: "from: must be before to" });
    }
    return { workspaceId: ctx.workspaceId, ...input };
  }),
});
