import { Duration } from "@sluice/pipeline/duration";
import { defineNode } from "@sluice/pipeline/node-definition";
import { type DataType, type Field, field, t } from "@sluice/pipeline/record-schema";
import { z } from "zod";

const nullRate = z.number().min(0).max(1).default(0).meta({ label: "Share of NULLs", advanced: true });

const FieldSpec = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("sequence"), nullRate }).meta({ title: "Sequence number" }),
  z
    .strictObject({
      kind: z.literal("int"),
      min: z.number().int().default(0),
      max: z.number().int().default(1000),
      nullRate,
    })
    .meta({ title: "Integer" }),
  z
    .strictObject({
      kind: z.literal("float"),
      min: z.number().default(0),
      max: z.number().default(1),
      decimals: z.number().int().min(0).max(12).default(2),
      nullRate,
    })
    .meta({ title: "Decimal number" }),
  z
    .strictObject({
      kind: z.literal("choice"),
      values: z
        .array(z.union([z.string(), z.number(), z.boolean()]))
        .min(1)
        .max(10_000),
      nullRate,
    })
    .meta({ title: "One of" }),
  z
    .strictObject({ kind: z.literal("string"), length: z.number().int().min(1).max(4096).default(8), nullRate })
    .meta({ title: "Random text" }),
  z
    .strictObject({ kind: z.literal("boolean"), probability: z.number().min(0).max(1).default(0.5), nullRate })
    .meta({ title: "Boolean" }),
  z.strictObject({ kind: z.literal("uuid"), nullRate }).meta({ title: "UUID" }),
]);
export type GeneratorFieldSpec = z.output<typeof FieldSpec>;

const FIELD_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/** At most this many generated fields per record. */
const MAX_GENERATOR_FIELDS = 256;
/** A generated record may be at most about this large (estimated from the config, as JSON). */
export const MAX_GENERATOR_RECORD_BYTES = 256 * 1024;

/** The largest a value of this field can be, as JSON, in bytes. */
function valueBytes(spec: GeneratorFieldSpec): number {
  switch (spec.kind) {
    case "sequence":
      return 16;
    case "int":
      return Math.max(String(spec.min).length, String(spec.max).length);
    case "float":
      return 24;
    case "choice":
      return spec.values.reduce<number>((n, v) => Math.max(n, typeof v === "string" ? v.length + 2 : 24), 0);
    case "string":
      return spec.length + 2;
    case "boolean":
      return 5;
    case "uuid":
      return 38;
  }
}

/**
 * The size of the largest record this config can generate, as JSON, in bytes: computed from the config alone, so
 * the engine can size a batch without measuring each record.
 */
export function generatorRecordBytes(c: Pick<GeneratorConfig, "fields" | "timeField">): number {
  let bytes = 2 + c.timeField.length + 3 + 16;
  for (const [name, spec] of Object.entries(c.fields)) bytes += name.length + 4 + valueBytes(spec);
  return bytes;
}

function kib(bytes: number): string {
  return `${Math.ceil(bytes / 1024).toLocaleString("en-US")} KiB`;
}

export const DEFAULT_GENERATOR_FIELDS = {
  id: { kind: "sequence" },
  user_id: { kind: "int", min: 1, max: 1000 },
  country: { kind: "choice", values: ["DE", "FR", "US", "GB", "JP", "BR"] },
  status: { kind: "choice", values: [200, 200, 200, 200, 301, 404, 500] },
  amount: { kind: "float", min: 0, max: 500, decimals: 2 },
} as const satisfies Record<string, z.input<typeof FieldSpec>>;

const config = z
  .strictObject({
    count: z
      .number()
      .int()
      .min(1)
      .max(1e15)
      .optional()
      .meta({ label: "Records", help: "How many records to emit in all; leave empty to run until stopped." }),
    rate: z.number().min(0).max(10_000_000).default(100).meta({
      label: "Rate (records/s)",
      help: "Records per second across all partitions; 0 emits as fast as possible.",
    }),
    seed: z
      .number()
      .int()
      .default(1)
      .meta({ label: "Seed", help: "The same seed gives the same records.", advanced: true }),
    fields: z
      .record(z.string().regex(FIELD_NAME, "field names are identifiers"), FieldSpec)
      .prefault(DEFAULT_GENERATOR_FIELDS)
      .meta({ label: "Fields", help: "Name and kind of each generated field.", advanced: true }),
    timeField: z
      .string()
      .regex(FIELD_NAME, "field names are identifiers")
      .default("ts")
      .meta({ label: "Event-time field", help: "Gets the record's event time (epoch ms).", advanced: true }),
    startTime: z
      .union([z.number().int().min(0), z.iso.datetime({ offset: true })])
      .optional()
      .meta({
        label: "Event time of the first record",
        help: "Epoch ms or an ISO date-time; default: when the run was created. Fix it to make runs comparable.",
        advanced: true,
      }),
    maxOutOfOrder: Duration.default(0).meta({
      label: "Out-of-orderness",
      help: "Event times are shifted back by up to this much, to exercise watermarks (e.g. 5s).",
      advanced: true,
      widget: "duration",
    }),
  })
  .superRefine((c, ctx) => {
    if (c.timeField in c.fields) {
      ctx.addIssue({ code: "custom", path: ["timeField"], message: `"${c.timeField}" is also a generated field` });
    }
    const names = Object.keys(c.fields);
    if (names.length > MAX_GENERATOR_FIELDS) {
      ctx.addIssue({
        code: "custom",
        path: ["fields"],
        message: `a generator makes at most ${MAX_GENERATOR_FIELDS} fields (this one has ${names.length})`,
      });
    }
    const bytes = generatorRecordBytes(c);
    if (bytes > MAX_GENERATOR_RECORD_BYTES) {
      ctx.addIssue({
        code: "custom",
        path: ["fields"],
        message: `these fields make records of about ${kib(bytes)} each, over the ${kib(MAX_GENERATOR_RECORD_BYTES)} a generated record may have: use fewer fields or shorter text`,
      });
    }
    for (const [name, spec] of Object.entries(c.fields)) {
      if ((spec.kind === "int" || spec.kind === "float") && spec.min > spec.max) {
        ctx.addIssue({
          code: "custom",
          path: ["fields", name, "max"],
          message: `max (${spec.max}) is below min (${spec.min})`,
        });
      }
    }
  });

export type GeneratorConfig = z.output<typeof config>;

function specType(spec: GeneratorFieldSpec): DataType {
  switch (spec.kind) {
    case "sequence":
    case "int":
      return t.int;
    case "float":
      return t.float;
    case "boolean":
      return t.boolean;
    case "string":
    case "uuid":
      return t.string;
    case "choice": {
      const kinds = new Set(spec.values.map((v) => typeof v));
      if (kinds.size !== 1) return t.json;
      const [kind] = kinds;
      if (kind === "number") return spec.values.every((v) => Number.isInteger(v)) ? t.int : t.float;
      return kind === "boolean" ? t.boolean : t.string;
    }
  }
}

export function generatorSchemaFields(c: GeneratorConfig): Field[] {
  return [
    ...Object.entries(c.fields).map(([name, spec]) => field(name, specType(spec), spec.nullRate > 0)),
    field(c.timeField, t.timestamp, false, "event time"),
  ];
}

export const generatorDef = defineNode({
  type: "source.generator",
  version: 1,
  kind: "source",
  title: "Generator",
  category: "Testing",
  icon: "sparkles",
  summary: "Emits seeded synthetic records at a chosen rate, bounded or endless.",
  docs: `Produces deterministic synthetic records: the same seed and field list always give the same records, whatever
the number of partitions or workers, so a replay after a failure reproduces exactly what was emitted before.

Each field has a kind (sequence, int, float, choice, string, boolean, uuid). The event-time field is added to every
record; with *Out-of-orderness* set, event times are shifted back by a random amount up to that bound, which is how
you test watermarks and late data. With *Records* empty the source runs until the run is stopped.

A record has at most ${MAX_GENERATOR_FIELDS} fields and about ${MAX_GENERATOR_RECORD_BYTES / 1024} KiB as JSON (each text field counted at its full length),
so that no configuration can run a worker out of memory; batches of large records are cut to the run's byte budget
(\`settings.batchBytes\`).

It is replayable: exactly-once pipelines can start from it.`,
  inputs: [],
  outputs: [{ name: "out" }],
  config,
  examples: [
    { title: "Endless clicks at 100 records/s", config: { rate: 100 } },
    {
      title: "A million sensor readings, as fast as possible",
      config: {
        count: 1_000_000,
        rate: 0,
        fields: { sensor: { kind: "int", min: 1, max: 50 }, temperature: { kind: "float", min: -10, max: 40 } },
        maxOutOfOrder: "5s",
      },
    },
  ],
  delivery: { replayable: true },
  eventTimeField: (c) => c.timeField,
  infer: ({ config: c }) => ({
    outputs: { out: { fields: generatorSchemaFields(c), open: false, eventTime: c.timeField } },
  }),
  summarize: (c) =>
    `${c.count === undefined ? "endless" : c.count.toLocaleString("en-US")} records · ${c.rate === 0 ? "max rate" : `${c.rate.toLocaleString("en-US")}/s`}`,
});
