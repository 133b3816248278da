import type { PipelineSettings } from "@sluice/pipeline/definition";
import { Duration } from "@sluice/pipeline/duration";
import type { InferIssue } from "@sluice/pipeline/node-definition";
import { findField, type RecordSchema } from "@sluice/pipeline/record-schema";
import { z } from "zod";
import { FieldRef, unknownFieldIssue } from "../record-fields";

// The config fields and checks every event-time operator shares: which field holds a record's event time, how
// late a record may be, and where late records go. Browser-safe.

export const TimeFieldRef = FieldRef.optional().meta({
  label: "Event-time field",
  help: "The field with each record's event time (epoch ms). Default: the input's event-time field.",
  widget: "field",
  advanced: true,
});

/** How far behind the watermark a record may still be taken; `effect` says what that costs or changes. */
export function allowedLateness(effect: string) {
  return Duration.default(0).meta({
    label: "Allowed lateness",
    help: `How far behind the watermark a record may still be taken (default 0). ${effect}`,
    widget: "duration",
    placeholder: "0s",
    advanced: true,
  });
}

/** Where late records go; `ports` names the output(s) they take with `late: output`. */
export function latePolicy(ports = "the `late` output") {
  return z
    .enum(["dead-letter", "output"])
    .default("dead-letter")
    .meta({
      label: "Late records go to",
      help: `dead-letter: the dead-letter queue, with the reason. output: ${ports} (connect it, or they are lost).`,
      widget: "select",
    });
}

export type LatePolicyName = z.output<ReturnType<typeof latePolicy>>;

export const TimeMode = z.enum(["event", "processing"]).default("event").meta({
  label: "Time",
  help: "event: the records' event time, driven by the watermark. processing: the wall clock when records arrive.",
  widget: "select",
});

const TIME_KINDS = new Set(["timestamp", "int", "float", "any"]);

/**
 * The event-time field of records on an input: the configured one, else the input schema's, else the pipeline's
 * `settings.timeField` when the input can carry it.
 */
export function resolveTimeField(
  configured: string | undefined,
  schema: RecordSchema,
  settings: Pick<PipelineSettings, "timeField">,
): string | undefined {
  if (configured !== undefined) return configured;
  if (schema.eventTime !== undefined) return schema.eventTime;
  const fallback = settings.timeField;
  if (fallback !== undefined && (schema.open || findField(schema, fallback))) return fallback;
  return undefined;
}

/** Problems with the event-time field of `schema` (none when it resolves to a field holding epoch ms). */
export function timeFieldIssues(
  configured: string | undefined,
  schema: RecordSchema,
  settings: Pick<PipelineSettings, "timeField">,
  path: (string | number)[],
  input = "the input",
): InferIssue[] {
  const name = resolveTimeField(configured, schema, settings);
  if (name === undefined) {
    return [
      {
        severity: "error",
        code: "no-event-time",
        message: `${input} has no event-time field: name the field with the records' time (epoch ms) in ${path.join(".")}`,
        path,
      },
    ];
  }
  const unknown = unknownFieldIssue(schema, name, path);
  if (unknown) return [unknown];
  const f = findField(schema, name);
  if (f && !TIME_KINDS.has(f.type.kind)) {
    return [
      {
        severity: "error",
        code: "time-field-type",
        message: `the event-time field "${name}" is a ${f.type.kind}, not a timestamp (epoch ms)`,
        path,
      },
    ];
  }
  return [];
}
