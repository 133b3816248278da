import { formatDuration } from "@sluice/pipeline/duration";
import { defineNode, type InferIssue, type PortSpec } from "@sluice/pipeline/node-definition";
import { emptySchema, type RecordSchema } from "@sluice/pipeline/record-schema";
import { z } from "zod";
import { allowedLateness, latePolicy, TimeFieldRef, TimeMode, timeFieldIssues } from "../stateful/event-time";
import { checkKeys, KeyExpression } from "../stateful/key-expressions";
import { PositiveDuration } from "../stateful/window-spec";

export const DUPLICATES_PORT = "duplicates";
export const LATE_PORT = "late";

const config = z.strictObject({
  key: z
    .array(KeyExpression)
    .min(1, "name what makes records duplicates, e.g. [event_id]")
    .max(32, "at most 32 key expressions")
    .meta({
      label: "Duplicate when equal",
      help: "SQL expressions; records with equal values (NULL equals NULL here) are duplicates.",
    }),
  within: PositiveDuration.meta({
    label: "Within",
    help: "How long after a key's first record later ones count as its duplicates.",
    widget: "duration",
    placeholder: "10m",
  }),
  time: TimeMode,
  timeField: TimeFieldRef,
  duplicates: z.enum(["drop", "output"]).default("drop").meta({
    label: "Duplicates",
    help: "drop: discard them (that is the point of this node). output: send them to the `duplicates` output.",
    widget: "select",
  }),
  allowedLateness: allowedLateness("Keys are remembered that much longer, so later records can still be checked."),
  late: latePolicy(),
});

export type DedupeConfig = z.output<typeof config>;

const outPort: PortSpec = { name: "out", doc: "the first record of each key within the horizon" };
const duplicatesPort: PortSpec = { name: DUPLICATES_PORT, doc: "the records recognised as duplicates" };
const latePort: PortSpec = { name: LATE_PORT, doc: "records too late to be checked" };

function dedupePorts(c: DedupeConfig): { outputs: PortSpec[] } {
  const outputs = [outPort];
  if (c.duplicates === "output") outputs.push(duplicatesPort);
  if (c.time === "event" && c.late === "output") outputs.push(latePort);
  return { outputs };
}

export const dedupeDef = defineNode({
  type: "transform.dedupe",
  version: 1,
  kind: "transform",
  title: "Deduplicate",
  category: "Aggregate",
  icon: "copy-minus",
  summary: "Passes on the first record per key within a time horizon and drops later duplicates.",
  docs: `Removes duplicates, such as the redeliveries of an at-least-once source: the first record of a key is passed
on unchanged, at once; records with the same key whose time is before that first record's time + *Within* are
duplicates. Records are partitioned by the key, so equal keys meet in one partition.

**Exactly.** The node remembers, per key, until when it suppresses duplicates (*expiry* = the first record's time
+ within). A record of that key with a time before the expiry is a duplicate — whatever its order of arrival, so
a copy that arrives before the "first" one in event time is a duplicate too. A record at or after the expiry, or
of a key not seen, is a new first record and starts a new horizon. Key values compare as SQL values, except that
NULL equals NULL here.

**Duplicates** are dropped (\`duplicates: drop\`, the default — that is the purpose of this node, not a loss), or
sent to the \`duplicates\` output (\`duplicates: output\`) to count or inspect them.

**Event time** (the default): a key is forgotten once the watermark passes its expiry + *Allowed lateness*. A
record of a forgotten key could have been a duplicate of the forgotten record, so a record with no remembered key
whose time is more than the allowed lateness behind the watermark cannot be checked: it is *late* and goes to the
dead-letter queue (\`late: dead-letter\`, the default) or to the \`late\` output (\`late: output\`) — never on as if it
were new, and never silently dropped. Records of remembered keys can always be checked, however late.

**Processing time** (\`time: processing\`): the horizon runs from when the first record arrived by the wall clock
and keys are forgotten on the engine's once-a-second tick; nothing is ever late.

**State** is one number per key seen within the horizon (plus the allowed lateness).`,
  inputs: [{ name: "in" }],
  outputs: [outPort, duplicatesPort, latePort],
  ports: dedupePorts,
  config,
  examples: [
    { title: "Drop redelivered events for ten minutes", config: { key: ["event_id"], within: "10m", timeField: "ts" } },
    {
      title: "One alert per host and check each hour, repeats to their own output",
      config: { key: ["host", "lower(check_name)"], within: "1h", duplicates: "output", timeField: "checked_at" },
    },
    {
      title: "Ignore double clicks by arrival time",
      config: { key: ["user_id", "button"], within: "2s", time: "processing" },
    },
  ],
  delivery: {},
  keyBy: (c) => ({ in: c.key }),
  infer: (ctx) => {
    const c = ctx.config;
    const input: RecordSchema = ctx.inputs.in ?? emptySchema;
    const issues: InferIssue[] = [];
    if (c.time === "event") issues.push(...timeFieldIssues(c.timeField, input, ctx.settings, ["timeField"]));
    else if (c.allowedLateness > 0 || c.late === "output") {
      issues.push({
        severity: "warning",
        code: "processing-time-lateness",
        message: "with processing time nothing is late: allowedLateness and late have no effect",
        path: [c.allowedLateness > 0 ? "allowedLateness" : "late"],
      });
    }
    checkKeys(c.key, input, ctx.parameters, (i) => ["key", i], issues);
    const outputs: Record<string, RecordSchema> = {};
    for (const port of dedupePorts(c).outputs) outputs[port.name] = input;
    return { outputs, issues };
  },
  summarize: (c) =>
    `first per ${c.key.join(", ")} within ${formatDuration(c.within)}${c.time === "processing" ? " (processing time)" : ""}`,
});
