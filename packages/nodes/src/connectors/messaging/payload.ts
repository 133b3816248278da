import type { InferIssue } from "@sluice/pipeline/node-definition";
import { type Field, field, findField, type RecordSchema, t } from "@sluice/pipeline/record-schema";
import { z } from "zod";
import { FieldRef, NewFieldName, unknownFieldIssue } from "../../record-fields";
import type { ParsedType } from "../../transforms/parse-text";
import {
  type Declared,
  type DeclaredField,
  declaredFieldList,
  declaredSchemaFields,
  normaliseDeclared,
} from "../files/declared-fields";

// How the message connectors (Redis Streams, NATS JetStream, MQTT, RabbitMQ) turn a message's payload into a record
// and a record into a payload: the config fields every one of them shares, and the schema they infer from them.
// Browser-safe; the codec that does it at run time is codec.ts.

/** Payload formats of every message source; Redis Streams adds `fields` (the entry's own field-value pairs). */
export const PAYLOAD_FORMATS = ["json", "text", "bytes-base64"] as const;
export type PayloadFormat = (typeof PAYLOAD_FORMATS)[number] | "fields";

const formatHelp: Record<PayloadFormat, string> = {
  json: "json: the payload is a JSON object whose keys become the record's fields",
  text: "text: the payload as UTF-8 text in one field",
  "bytes-base64": "bytes-base64: the raw bytes, base64-encoded, in one field",
  fields: "fields: the entry's own field-value pairs become the record's fields",
};

/** The payload fields of a message source's config, for the formats it offers (the first is the default). */
export function sourcePayloadFields<F extends readonly [PayloadFormat, ...PayloadFormat[]]>(formats: F) {
  return {
    format: z
      .enum(formats)
      .default(formats[0])
      .meta({
        label: "Payload format",
        help: `${formats.map((f) => formatHelp[f]).join("; ")}. A payload that cannot be read goes to the dead-letter queue and the run goes on.`,
        widget: "select",
      }),
    fields: declaredFieldList(
      "json and fields formats: the fields to take, with their types (string, int, float, boolean, timestamp, json), giving downstream nodes a closed, typed schema. Empty: take every key as it is (an open schema).",
      [["order_id", { name: "amount", type: "float" }, { name: "ts", type: "timestamp", nullable: false }]],
    ).optional(),
    payloadField: NewFieldName.default("payload").meta({
      label: "Payload field",
      help: "text and bytes-base64 formats: the record field that receives the payload.",
      advanced: true,
    }),
    metadata: z.boolean().default(false).meta({
      label: "Add message metadata",
      help: "Add the message's metadata (see the docs for the field names, which start with an underscore) to each record.",
      advanced: true,
    }),
    timeField: FieldRef.optional().meta({
      label: "Event-time field",
      help: "The field holding each record's event time (epoch ms or ISO text converted by a timestamp field), from which watermarks are derived. Empty: the time records arrive.",
      advanced: true,
      widget: "field",
    }),
  };
}

export interface SourcePayloadConfig {
  format: PayloadFormat;
  fields?: z.output<typeof DeclaredField>[] | undefined;
  payloadField: string;
  metadata: boolean;
  timeField?: string | undefined;
}

/** Declared fields, normalised: a bare name is text in the `fields` format and an untyped value (json) otherwise. */
export function declaredFields(c: SourcePayloadConfig): Declared[] | undefined {
  const bare: ParsedType = c.format === "fields" ? "string" : "json";
  return normaliseDeclared(c.fields, bare);
}

/** Cross-field checks of the payload fields, for a config's superRefine. */
export function checkSourcePayload(c: SourcePayloadConfig, ctx: z.RefinementCtx): void {
  if (c.fields !== undefined && (c.format === "text" || c.format === "bytes-base64")) {
    ctx.addIssue({
      code: "custom",
      path: ["fields"],
      message: `the ${c.format} format gives one field ("${c.payloadField}"); declare fields only with json or fields`,
    });
  }
}

const TIME_KINDS = new Set(["timestamp", "int", "float", "any", "json"]);

/**
 * The records' schema: declared fields (closed), every key (open), or the one payload field; then the metadata
 * fields when asked for. Problems (metadata names taken, an unusable event-time field) are added to `issues`.
 */
export function sourceRecordSchema(
  c: SourcePayloadConfig,
  metadata: readonly Field[],
  issues: InferIssue[],
): RecordSchema {
  const declared = declaredFields(c);
  let fields: Field[];
  let open = false;
  if (c.format === "text" || c.format === "bytes-base64") fields = [field(c.payloadField, t.string, false)];
  else if (declared) fields = declaredSchemaFields(declared);
  else {
    fields = [];
    open = true;
  }
  if (c.metadata) {
    for (const m of metadata) {
      const i = fields.findIndex((f) => f.name === m.name);
      if (i >= 0) {
        issues.push({
          severity: "warning",
          code: "duplicate-field",
          message: `the metadata field "${m.name}" replaces the payload's field of that name`,
          path: c.format === "text" || c.format === "bytes-base64" ? ["payloadField"] : ["fields", i],
        });
        fields.splice(i, 1);
      }
    }
    fields.push(...metadata);
  }
  const schema: RecordSchema = { fields, open };
  if (c.timeField === undefined) return schema;
  const time = findField(schema, c.timeField);
  const unknown = unknownFieldIssue(schema, c.timeField, ["timeField"]);
  if (unknown) {
    issues.push(unknown);
    return schema;
  }
  if (time && !TIME_KINDS.has(time.type.kind)) {
    issues.push({
      severity: "error",
      code: "type",
      message: `"${c.timeField}" is ${time.type.kind}; event time is a timestamp (declare the field with type timestamp)`,
      path: ["timeField"],
    });
    return schema;
  }
  return { ...schema, eventTime: c.timeField };
}

// ---- sinks ----------------------------------------------------------------------------------------------------

/** The payload fields of a message sink's config. */
export function sinkPayloadFields<F extends readonly [PayloadFormat, ...PayloadFormat[]]>(formats: F) {
  return {
    format: z.enum(formats).default(formats[0]).meta({
      label: "Payload format",
      help: "json: the record (or the value field) as JSON; text: the value field as UTF-8 text; bytes-base64: the value field's base64 text decoded to bytes.",
      widget: "select",
    }),
    valueField: FieldRef.optional().meta({
      label: "Value field",
      help: "The field to send as the payload. Required for text and bytes-base64; for json, empty sends the whole record.",
      widget: "field",
    }),
  };
}

export interface SinkPayloadConfig {
  format: PayloadFormat;
  valueField?: string | undefined;
}

export function checkSinkPayload(c: SinkPayloadConfig, ctx: z.RefinementCtx): void {
  if ((c.format === "text" || c.format === "bytes-base64") && c.valueField === undefined) {
    ctx.addIssue({ code: "custom", path: ["valueField"], message: `the ${c.format} format sends one field: name it` });
  }
}

/** Checks the value field against the input schema. */
export function sinkPayloadIssues(c: SinkPayloadConfig, input: RecordSchema): InferIssue[] {
  if (c.valueField === undefined) return [];
  const unknown = unknownFieldIssue(input, c.valueField, ["valueField"]);
  if (unknown) return [unknown];
  const found = findField(input, c.valueField);
  if (c.format === "bytes-base64" && found && !["string", "any", "json"].includes(found.type.kind)) {
    return [
      {
        severity: "error",
        code: "type",
        message: `"${c.valueField}" is ${found.type.kind}; bytes-base64 sends a field holding base64 text`,
        path: ["valueField"],
      },
    ];
  }
  return [];
}

/** A config field naming a connection of `type`. */
export function connectionField(type: string, title: string) {
  return z
    .string()
    .min(1, `name a ${title} connection`)
    .max(200)
    .meta({
      label: "Connection",
      help: `The ${title} connection to use (defined under Connections; its secrets never appear in the pipeline).`,
      widget: "connection",
      connectionType: type,
    });
}
