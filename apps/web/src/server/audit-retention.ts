// Server-only: deletes audit entries older than SLUICE_AUDIT_RETENTION, an hour apart, started once per web process
// from instrumentation.ts. Deleting the same old rows from several web processes at once is harmless.
import { deleteExpiredAudit } from "@sluice/api/audit/audit-log";
import { getDeps } from "./deps";
import { webEnv } from "./env";

const STARTED = Symbol.for("sluice.web.audit-retention");
const EVERY_MS = 3600_000;
type Flag = { [STARTED]?: NodeJS.Timeout };

export function startAuditRetention(): void {
  const flag = globalThis as Flag;
  if (flag[STARTED]) return;
  const sweep = () => {
    const { db, logger } = getDeps();
    deleteExpiredAudit(db, webEnv().auditRetentionMs).catch((err) =>
      logger?.warn("audit log retention sweep failed; it runs again in an hour", { err }),
    );
  };
  flag[STARTED] = setInterval(sweep, EVERY_MS);
  flag[STARTED].unref();
  setTimeout(sweep, 60_000).unref();
}
