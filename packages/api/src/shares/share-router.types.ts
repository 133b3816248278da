import { NodeCounters } from "@sluice/pipeline/control/protocol";
import { PipelineDefinition } from "@sluice/pipeline/definition";
import { z } from "zod";
import { RunStatusEnum } from "../runs/run-router.types";
import { ShareToken, TemplateId, TemplateView } from "../templates/template-router.types";

export const ShareTokenInput = z.strictObject({ token: ShareToken });
export const ShareLinkIdInput = z.strictObject({ id: z.string().min(1).max(64) });

const RUN_LINK_DEFAULT_HOURS = 24;
const RUN_LINK_MAX_HOURS = 30 * 24;

export const CreateTemplateLinkInput = z.strictObject({ templateId: TemplateId });
export const CreateRunLinkInput = z.strictObject({
  runId: z.string().min(1).max(64),
  expiresInHours: z
    .int()
    .min(1, "a live view link lasts at least an hour")
    .max(RUN_LINK_MAX_HOURS, `a live view link lasts at most ${RUN_LINK_MAX_HOURS / 24} days`)
    .default(RUN_LINK_DEFAULT_HOURS),
});

export const ListShareLinksInput = z
  .strictObject({ templateId: TemplateId.optional(), runId: z.string().min(1).max(64).optional() })
  .refine((v) => (v.templateId === undefined) !== (v.runId === undefined), {
    message: "give either templateId or runId",
    path: ["templateId"],
  });

/** What its maker sees once: the token is not stored and cannot be shown again. */
export const CreatedShareLink = z.object({ id: z.string(), token: z.string(), expiresAt: z.date().nullable() });

export const ShareLinkView = z.object({
  id: z.string(),
  kind: z.enum(["TEMPLATE", "RUN"]),
  createdBy: z.string(),
  createdAt: z.date(),
  expiresAt: z.date().nullable(),
  revokedAt: z.date().nullable(),
  lastUsedAt: z.date().nullable(),
  /** Opens now: not revoked, not expired (and for a template, still shared by link). */
  active: z.boolean(),
});

/** A run as its live-view link shows it: what it does and how it is doing, nothing about who or which systems. */
const SharedRun = z.object({
  runId: z.string(),
  pipelineName: z.string(),
  version: z.number(),
  status: RunStatusEnum,
  startedAt: z.date().nullable(),
  finishedAt: z.date().nullable(),
  counters: z.record(z.string(), NodeCounters).nullable(),
  definition: PipelineDefinition,
  /** When the link stops opening. */
  expiresAt: z.date(),
});

export const SharedView = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("template"), template: TemplateView }),
  z.object({ kind: z.literal("run"), run: SharedRun }),
]);
