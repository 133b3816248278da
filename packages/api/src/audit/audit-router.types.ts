import { z } from "zod";

const Id = z.string().min(1).max(64);

const AuditFilterInput = z.strictObject({
  from: z.date().optional(),
  to: z.date().optional(),
  /** An exact action (`runs.start`) or a router's prefix ending in a dot (`runs.`). */
  action: z
    .string()
    .max(100)
    .regex(/^[A-Za-z][A-Za-z0-9]*(\.[A-Za-z0-9]*)?$/, "name an action such as runs.start, or a prefix such as runs.")
    .optional(),
  actorId: Id.optional(),
  targetType: z.string().max(40).optional(),
  targetId: Id.optional(),
});

export const ListAuditInput = AuditFilterInput.extend({
  cursor: z
    .string()
    .regex(/^\d{1,19}$/, "not a cursor this list gave")
    .optional(),
  limit: z.number().int().min(1).max(200).default(50),
  /** Sent by useInfiniteQuery with the cursor; pages only go back in time, so it changes nothing. */
  direction: z.enum(["forward", "backward"]).optional(),
});

export const AuditExportInput = AuditFilterInput.extend({ format: z.enum(["csv", "json"]) });

const AuditEntryView = z.object({
  id: z.string(),
  at: z.date(),
  actorId: z.string().nullable(),
  actorName: z.string(),
  via: z.string(),
  tokenId: z.string().nullable(),
  tokenName: z.string().nullable(),
  action: z.string(),
  targetType: z.string().nullable(),
  targetId: z.string().nullable(),
  targetName: z.string().nullable(),
  details: z.record(z.string(), z.unknown()).nullable(),
  address: z.string().nullable(),
});

export const AuditPage = z.object({ entries: z.array(AuditEntryView), next: z.string().nullable() });
