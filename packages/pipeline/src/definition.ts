import { z } from "zod";
import { AlertRules } from "./alert-rules";
import { parseDuration } from "./duration";

// The pipeline file format (apiVersion sluice/v1). This is the stored definition, the export/import format
// and what the CLI reads. UI-only data lives under `ui` keys and never changes semantics.

export const API_VERSION = "sluice/v1";

export const NODE_ID_RE = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/;
export const NodeId = z
  .string()
  .regex(NODE_ID_RE, "node ids start with a letter or _ and use letters, digits, _ and - (at most 64 characters)");

export const PortName = z.string().regex(/^[a-z][a-z0-9_]{0,31}$/, "port names are lower-case words");

const UiData = z.record(z.string(), z.unknown());

export const NodeUi = z
  .object({
    x: z.number().finite(),
    y: z.number().finite(),
    label: z.string().max(200).optional(),
    note: z.string().max(10_000).optional(),
  })
  .catchall(z.unknown());

export const PipelineNode = z.strictObject({
  id: NodeId,
  type: z.string().min(1).max(100),
  version: z.number().int().positive().optional(),
  config: z.record(z.string(), z.unknown()).default({}),
  ui: NodeUi.optional(),
});

export const PipelineEdge = z.strictObject({
  from: NodeId,
  to: NodeId,
  fromPort: PortName.optional(),
  toPort: PortName.optional(),
  ui: UiData.optional(),
});

export const ParameterType = z.enum([
  "string",
  "integer",
  "number",
  "boolean",
  "choice",
  "duration",
  "expression",
  "connection",
]);
/** A value a parameter can hold: a connection slot's value is the connection's name, an expression's its text. */
export const ParameterValueSchema = z.union([z.string(), z.number(), z.boolean()]);

// One flat shape for every type, so a file written before typed parameters (name, type, default, description)
// reads exactly as it did. What fits which type (choices for a choice, min/max for numbers, a default of the
// declared type, …) is judged by validate() as issues with paths, so one slip does not hide the whole pipeline.
export const PipelineParameter = z.strictObject({
  // Files keep this key order (type-specific options, then how the parameter is presented), so a file written
  // before typed parameters (name, type, default, description) round-trips unchanged.
  name: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, "parameter names are identifiers"),
  type: ParameterType.default("string"),
  /** connection: the connector type a connection must have to fill the slot, e.g. "postgres". */
  connectorType: z.string().min(1).max(100).optional(),
  /** choice: the values one may pick from. */
  choices: z.array(z.string().max(10_000)).min(1).max(1000).optional(),
  /** integer, number: bounds, inclusive. */
  min: z.number().finite().optional(),
  max: z.number().finite().optional(),
  /** string: an RE2 pattern the whole value must match, and a length limit. */
  pattern: z.string().max(1000).optional(),
  maxLength: z.number().int().min(0).optional(),
  label: z.string().max(200).optional(),
  default: ParameterValueSchema.optional(),
  description: z.string().max(2000).optional(),
  /** The value must be given when a run starts or the template is used; the default only fills the form in. */
  required: z.boolean().optional(),
});

/** A duration as the user wrote it ("5s", or milliseconds), kept as written so files round-trip unchanged. */
const DurationText = z
  .union([z.string(), z.number()])
  .refine((v) => parseDuration(v) !== undefined, { message: "write a duration such as 250ms, 5s, 1m, 2h or 1d" });

export const DeliveryGuarantee = z.enum(["exactly-once", "at-least-once"]);

/** settings.batchBytes when unset: 4 MiB of (estimated) records per batch. */
export const DEFAULT_BATCH_BYTES = 4 * 1024 * 1024;
const MIN_BATCH_BYTES = 64 * 1024;
const MAX_BATCH_BYTES = 64 * 1024 * 1024;
/** settings.deadLetterLimit when unset, per partition. */
export const DEFAULT_DEAD_LETTER_LIMIT = 1_000_000;
const MAX_DEAD_LETTER_LIMIT = 10_000_000;

// The `.meta()` hints label the editor's settings form, which is generated from this schema as node forms are.
export const PipelineSettings = z.strictObject({
  parallelism: z.number().int().min(1).max(256).default(4).meta({
    label: "Parallelism",
    help: "How many partitions each stage runs as, in parallel across the workers.",
  }),
  delivery: DeliveryGuarantee.default("exactly-once").meta({
    label: "Delivery",
    help: "exactly-once needs sources that can replay and sinks that are idempotent or transactional; otherwise the run gets at-least-once.",
  }),
  timeField: z.string().min(1).optional().meta({
    label: "Time field",
    help: "The record field that holds event time, for windows and the watermark; processing time when empty.",
    placeholder: "ts",
  }),
  maxOutOfOrder: DurationText.optional().meta({
    label: "Out-of-orderness",
    help: "How late an event may arrive behind the newest one seen; the watermark trails by this much.",
    placeholder: "5s",
  }),
  idleTimeout: DurationText.optional().meta({
    label: "Idle timeout",
    help: "A partition with no records for this long stops holding the watermark back.",
    placeholder: "1m",
    advanced: true,
  }),
  batchSize: z.number().int().min(1).max(100_000).default(1000).meta({
    label: "Batch size",
    help: "Records read and committed together; larger batches are faster, smaller ones show results sooner.",
    advanced: true,
  }),
  /** A batch also stops filling at about this many bytes (default DEFAULT_BATCH_BYTES), so large records stay bounded. */
  batchBytes: z
    .number()
    .int()
    .min(MIN_BATCH_BYTES, `a batch needs at least ${MIN_BATCH_BYTES.toLocaleString("en-US")} bytes`)
    .max(MAX_BATCH_BYTES, `a batch may hold at most ${MAX_BATCH_BYTES.toLocaleString("en-US")} bytes (64 MiB)`)
    .optional()
    .meta({
      label: "Batch bytes",
      help: "A batch also stops filling at about this many bytes (4 MiB when empty).",
      advanced: true,
    }),
  /**
   * Dead letters one partition may hold (default DEFAULT_DEAD_LETTER_LIMIT). A batch that would pass it is not
   * committed and the run fails saying so: dead letters are never trimmed.
   */
  deadLetterLimit: z
    .number()
    .int()
    .min(1)
    .max(
      MAX_DEAD_LETTER_LIMIT,
      `a partition may hold at most ${MAX_DEAD_LETTER_LIMIT.toLocaleString("en-US")} dead letters`,
    )
    .optional()
    .meta({
      label: "Dead-letter limit",
      help: "Dead letters one partition may hold (1,000,000 when empty); a batch that would pass it fails the run.",
      advanced: true,
    }),
});

export const PipelineMetadata = z.strictObject({
  name: z
    .string()
    .min(1)
    .max(100)
    .regex(/^[a-z0-9][a-z0-9._-]*$/, "names are lower-case letters, digits, '.', '_' and '-'"),
  title: z.string().max(200).optional(),
  description: z.string().max(10_000).optional(),
  labels: z.record(z.string(), z.string()).optional(),
});

export const PipelineSpec = z
  .strictObject({
    settings: PipelineSettings.default({ parallelism: 4, delivery: "exactly-once", batchSize: 1000 }),
    parameters: z.array(PipelineParameter).default([]),
    nodes: z.array(PipelineNode).max(10_000, "a pipeline has at most 10,000 nodes"),
    edges: z.array(PipelineEdge).max(20_000, "a pipeline has at most 20,000 edges").default([]),
    /** Alert rules (alert-rules.ts); absent rather than empty in a file that has none, so files round-trip. */
    alerts: AlertRules.optional(),
  })
  .superRefine((spec, ctx) => {
    const nodes = new Set(spec.nodes.map((n) => n.id));
    spec.alerts?.forEach((rule, i) => {
      if (rule.node !== undefined && !nodes.has(rule.node)) {
        ctx.addIssue({
          code: "custom",
          path: ["alerts", i, "node"],
          message: `alert rule "${rule.id}" watches node "${rule.node}", which is not in the pipeline`,
        });
      }
    });
  });

export const PipelineDefinition = z.strictObject({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal("Pipeline"),
  metadata: PipelineMetadata,
  spec: PipelineSpec,
  ui: UiData.optional(),
});

export type PipelineDefinition = z.infer<typeof PipelineDefinition>;
export type PipelineDefinitionInput = z.input<typeof PipelineDefinition>;
export type PipelineNode = z.infer<typeof PipelineNode>;
export type PipelineEdge = z.infer<typeof PipelineEdge>;
export type PipelineSettings = z.infer<typeof PipelineSettings>;
export type PipelineParameter = z.infer<typeof PipelineParameter>;
export type DeliveryGuarantee = z.infer<typeof DeliveryGuarantee>;

export const DEFAULT_OUT_PORT = "out";
export const DEFAULT_IN_PORT = "in";

export function edgeKey(e: PipelineEdge): string {
  return `${e.from}.${e.fromPort ?? DEFAULT_OUT_PORT}->${e.to}.${e.toPort ?? DEFAULT_IN_PORT}`;
}

export function emptyDefinition(name: string): PipelineDefinition {
  return {
    apiVersion: API_VERSION,
    kind: "Pipeline",
    metadata: { name },
    spec: {
      settings: { parallelism: 4, delivery: "exactly-once", batchSize: 1000 },
      parameters: [],
      nodes: [],
      edges: [],
    },
  };
}
