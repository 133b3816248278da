import { checkExpression } from "@sluice/pipeline/expr/compile";
import { isOrderable } from "@sluice/pipeline/expr/type-rules";
import { defineNode, type InferIssue, type PortSpec } from "@sluice/pipeline/node-definition";
import {
  emptySchema,
  type Field,
  field,
  findField,
  type RecordSchema,
  t,
  typeName,
} from "@sluice/pipeline/record-schema";
import { z } from "zod";
import { expressionIssues, parameterInfo } from "../expression-issues";
import { allowedLateness, latePolicy, TimeFieldRef, timeFieldIssues } from "../stateful/event-time";
import { checkKeys, KeyExpression } from "../stateful/key-expressions";
import { describeWindow, fixedWindowSpec } from "../stateful/window-spec";

export const LATE_PORT = "late";
/** With no window configured, records are ranked within the window these fields of theirs name. */
export const INHERITED_WINDOW_FIELDS = ["window_start", "window_end"] as const;
/** Fields top-N adds to each record, in this order; an input field of the same name is replaced in place. */
const TOPN_FIELDS = ["rank", "window_start", "window_end", "window_time"] as const;

const config = z.strictObject({
  key: z.array(KeyExpression).max(32, "at most 32 key expressions").default([]).meta({
    label: "Per",
    help: "SQL expressions: a separate top N for each key. Empty: one top N per window over all records.",
  }),
  window: fixedWindowSpec().optional().meta({
    label: "Window",
    help: "Tumbling or hopping windows to rank in. Leave empty to rank the rows of an upstream Window node within their own window (window_start, window_end).",
  }),
  orderBy: z
    .string()
    .min(1, "write what to rank by, e.g. price")
    .max(65_536)
    .meta({
      label: "Rank by",
      help: "A SQL expression; NULLs rank last.",
      widget: "expression",
      placeholder: "price",
      examples: ["price", "bids", "amount * quantity"],
    }),
  descending: z.boolean().default(true).meta({
    label: "Highest first",
    help: "On: the largest values rank first. Off: the smallest.",
    widget: "switch",
  }),
  n: z
    .number()
    .int("n is a whole number")
    .min(1, "n must be at least 1")
    .max(1000, "n is at most 1000")
    .meta({ label: "N", help: "How many records to keep per key and window.", widget: "number" }),
  timeField: TimeFieldRef,
  allowedLateness: allowedLateness(
    "Windows are kept that much longer, and a record that changes a fired ranking emits it again.",
  ),
  late: latePolicy(),
});

export type TopNConfig = z.output<typeof config>;

const outPort: PortSpec = { name: "out", doc: "the top N records of each key and window, with their rank" };
const latePort: PortSpec = { name: LATE_PORT, doc: "records that came after their window was closed (input schema)" };

function topnPorts(c: TopNConfig): { outputs: PortSpec[] } {
  return { outputs: c.late === "output" ? [outPort, latePort] : [outPort] };
}

const ADDED_FIELDS: Record<(typeof TOPN_FIELDS)[number], Field> = {
  rank: field("rank", t.int, false, "1 = best in its key and window"),
  window_start: field("window_start", t.timestamp, false, "start of the window (inclusive)"),
  window_end: field("window_end", t.timestamp, false, "end of the window (exclusive)"),
  window_time: field("window_time", t.timestamp, false, "window_end − 1 ms: the row's event time"),
};

/** The input's fields with `added` ones replacing same-named ones in place, the rest appended. */
function topnFields(input: RecordSchema, added: readonly (typeof TOPN_FIELDS)[number][]): Field[] {
  const replaced = new Map(added.map((name) => [name as string, ADDED_FIELDS[name]]));
  const fields = input.fields.map((f) => replaced.get(f.name) ?? f);
  for (const name of added) if (!input.fields.some((f) => f.name === name)) fields.push(ADDED_FIELDS[name]);
  return fields;
}

/** Ranking within the input's own windows needs the window bounds an upstream Window node adds. */
function inheritedWindowIssues(input: RecordSchema): InferIssue[] {
  if (input.open) return [];
  const missing = INHERITED_WINDOW_FIELDS.filter((name) => {
    const f = findField(input, name);
    return f === undefined || !["timestamp", "int", "float", "any"].includes(f.type.kind);
  });
  if (missing.length === 0) return [];
  return [
    {
      severity: "error",
      code: "no-window",
      message: `with no window set, records are ranked within their own window, but the input has no timestamp field ${missing.join(" or ")}: set a window, or rank the output of a Window node`,
      path: ["window"],
    },
  ];
}

export const topnDef = defineNode({
  type: "transform.topn",
  version: 1,
  kind: "transform",
  title: "Top N",
  category: "Aggregate",
  icon: "trophy",
  summary: "Keeps the N best records per key and window, ranked.",
  docs: `Emits, for each key and window, the N records with the highest (or lowest) value of *Rank by*, each with its
\`rank\` (1 = best) — the "highest bid per window" and "hottest auction per window" of the Nexmark benchmark.
Records are partitioned by the key; with no key, all records meet in one partition.

**Windows.** With *Window* set, records are ranked in tumbling or hopping windows of their event time, aligned to
the epoch in UTC as in Window; each output row gets that window's \`window_start\`, \`window_end\` and
\`window_time\`, replacing input fields of those names in place (the others are passed on unchanged; missing ones
are appended after \`rank\`). With *Window* left empty, records are ranked within the window they already name —
the rows of an upstream Window node, whose \`window_start\` and \`window_end\` are kept — and a window closes when
the watermark reaches its \`window_end\` (*Event-time field* is not used then). That is how "the hottest auction per sliding window" is written: a Window
counting bids per auction, then a Top N by the count with no window of its own.

**Order.** *Rank by* is a SQL expression; NULLs rank last in both directions. Ties go to the record that arrived
first (the operator numbers records as they arrive and remembers the count across failovers, so a replay ranks
the same way). Values of different types (possible only in schemaless input) order booleans, then numbers, then
strings, then anything else.

**When.** A window's ranking is emitted when the watermark reaches its end, best first; windows in order of end,
then key (then start, for the input's windows). A record is late, and goes to the dead-letter queue or the
\`late\` output (*Late records*), when any of its windows is already closed for good (the watermark is past its
end + *Allowed lateness*). A record within the allowed lateness of a window that fired, and that changes its top
N, makes the window's whole ranking be emitted again at once: an upsert sink keyed by key, window_start and rank
ends up with the final ranking.

**State** holds at most N candidates per key and pane (tumbling or the input's windows: per window; hopping: per
slice of *every*), never all records.`,
  inputs: [{ name: "in" }],
  outputs: [outPort, latePort],
  ports: topnPorts,
  config,
  examples: [
    {
      title: "Highest bid every ten seconds (Nexmark q7)",
      config: { window: { tumble: "10s" }, orderBy: "price", n: 1, timeField: "dateTime" },
    },
    {
      title: "Hottest auction of each window of an upstream per-auction count (Nexmark q5)",
      config: { orderBy: "bids", n: 1 },
    },
    {
      title: "Three cheapest offers per product each hour",
      config: {
        key: ["product_id"],
        window: { tumble: "1h" },
        orderBy: "price",
        descending: false,
        n: 3,
        timeField: "offered_at",
      },
    },
  ],
  delivery: {},
  keyBy: (c) => ({ in: c.key }),
  infer: (ctx) => {
    const c = ctx.config;
    const input = ctx.inputs.in ?? emptySchema;
    const issues: InferIssue[] = [];
    if (c.window !== undefined) issues.push(...timeFieldIssues(c.timeField, input, ctx.settings, ["timeField"]));
    else issues.push(...inheritedWindowIssues(input));
    checkKeys(c.key, input, ctx.parameters, (i) => ["key", i], issues);
    const checked = checkExpression(c.orderBy, { schema: input, parameters: parameterInfo(ctx.parameters) }, "scalar");
    issues.push(...expressionIssues(checked.errors, ["orderBy"]));
    if (checked.type && !isOrderable(checked.type)) {
      issues.push({
        severity: "error",
        code: "expression-type",
        message: `cannot rank by a value of type ${typeName(checked.type)}; rank by a number, string, boolean or timestamp`,
        path: ["orderBy"],
      });
    }
    const outputs: Record<string, RecordSchema> = {
      out:
        c.window !== undefined
          ? { fields: topnFields(input, TOPN_FIELDS), open: input.open, eventTime: "window_time" }
          : { ...input, fields: topnFields(input, ["rank"]) },
    };
    if (c.late === "output") outputs[LATE_PORT] = input;
    return { outputs, issues };
  },
  summarize: (c) =>
    `top ${c.n} by ${c.orderBy}${c.descending ? " desc" : ""}${c.key.length > 0 ? ` per ${c.key.join(", ")}` : ""} · ${c.window !== undefined ? describeWindow(c.window) : "per input window"}`,
});
