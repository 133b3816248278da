import { defineNode, type InferIssue } from "@sluice/pipeline/node-definition";
import { emptySchema, findField, typeName } from "@sluice/pipeline/record-schema";
import { z } from "zod";
import { FieldRef, unknownFieldIssue } from "../record-fields";

const config = z.strictObject({
  latencyField: FieldRef.optional().meta({
    label: "Measure latency from",
    help: "A time field (epoch ms), usually the event time: the sink records now − value for each record in a latency histogram.",
    widget: "field",
    placeholder: "ts",
  }),
  maxRate: z
    .number()
    .positive("the rate must be above 0; leave it empty for no limit")
    .max(100_000_000)
    .optional()
    .meta({
      label: "Max rate (records/s)",
      help: "Slow the sink down to this many records per second across all partitions, to test backpressure. Empty: no limit.",
      advanced: true,
    }),
});

export type DiscardConfig = z.output<typeof config>;

const TIME_KINDS = new Set(["timestamp", "int", "float", "any", "json"]);

export const discardDef = defineNode({
  type: "sink.discard",
  version: 1,
  kind: "sink",
  title: "Discard",
  category: "Testing",
  icon: "trash",
  summary: "Counts and fingerprints records, then drops them: for benchmarks and tests.",
  docs: `Writes nothing anywhere. It keeps, per partition and in the node's state (committed atomically with each
batch, so the figures are exact under exactly-once delivery even across crashes and replays):

- **a count and a digest** of every record received. Each record gets a 64-bit structural hash in two 32-bit
  lanes (murmur3 and xxHash32 rounds over strings' UTF-8 bytes and numbers' IEEE-754 bits, objects as an
  order-independent sum over their fields; see \`record-hash.ts\`), so records that are equal as JSON hash equal
  whatever their field order. The digest is the two lanes' sums modulo 2^32 over all records. Sums do not depend
  on order, so the digest is the same whatever the partitioning, batching or arrival order of the same records,
  while a record missing, added or delivered twice changes it. Per-partition digests combine by adding them.
- **a latency histogram**, with *Measure latency from* set: for each record, the wall-clock time when its batch
  is written minus that field (epoch ms), counted in log-scale buckets, 20 per factor of ten from 1 ms to 63 s
  (each 12.2 % wide). p50/p99 are read from the bucket counts, to within one bucket. Records where the field is
  not a number are counted as missing.

*Max rate* makes each write wait so that the sink takes no more than that many records per second in all
(each partition gets an equal share), which is how backpressure is tested.

Because its only effect is state committed with the batch, the sink is transactional: a pipeline from a
replayable source into it runs exactly-once. The engine and the benchmarks read the state with the helpers in
\`sinks/discard-digest.ts\` (\`combineDigests\`, \`digestText\`, \`combineHistograms\`, \`latencyPercentile\`).`,
  inputs: [{ name: "in", multiple: true }],
  outputs: [],
  config,
  examples: [
    { title: "Count and fingerprint", config: {} },
    { title: "Latency from event time, slowed to 5,000 records/s", config: { latencyField: "ts", maxRate: 5000 } },
  ],
  delivery: { transactional: true },
  infer: (ctx) => {
    const issues: InferIssue[] = [];
    const name = ctx.config.latencyField;
    if (name !== undefined) {
      const input = ctx.inputs.in ?? emptySchema;
      const found = findField(input, name);
      const unknown = unknownFieldIssue(input, name, ["latencyField"]);
      if (unknown) issues.push(unknown);
      else if (found && !TIME_KINDS.has(found.type.kind)) {
        issues.push({
          severity: "error",
          code: "type",
          message: `"${name}" is ${typeName(found.type)}; latency is measured from a timestamp (epoch ms)`,
          path: ["latencyField"],
        });
      }
    }
    return { outputs: {}, issues };
  },
  summarize: (c) =>
    [
      "count + digest",
      c.latencyField !== undefined ? `latency from ${c.latencyField}` : undefined,
      c.maxRate !== undefined ? `≤ ${c.maxRate.toLocaleString("en-US")}/s` : undefined,
    ]
      .filter(Boolean)
      .join(" · "),
});
