import { formatDuration } from "@sluice/pipeline/duration";
import { checkExpression } from "@sluice/pipeline/expr/compile";
import { parse } from "@sluice/pipeline/expr/parser";
import { defineNode, type InferIssue, type PortSpec } from "@sluice/pipeline/node-definition";
import { emptySchema, type Field, field, type RecordSchema, t } from "@sluice/pipeline/record-schema";
import { z } from "zod";
import { expressionIssues, parameterInfo } from "../expression-issues";
import { NewFieldName } from "../record-fields";
import { allowedLateness, latePolicy, TimeFieldRef, TimeMode, timeFieldIssues } from "../stateful/event-time";
import { checkKeys, KeyExpression } from "../stateful/key-expressions";
import { describeWindow, PositiveDuration, windowSpec } from "../stateful/window-spec";

export const WINDOW_FIELDS = ["window_start", "window_end", "window_time"] as const;
export const FINAL_FIELD = "final";
export const LATE_PORT = "late";

const NamedKey = z.strictObject({
  name: NewFieldName.meta({ label: "Output field", placeholder: "domain" }),
  expr: KeyExpression.meta({ label: "Expression", placeholder: "lower(host)" }),
});

const KeyItem = z.union([KeyExpression, NamedKey], {
  error: (issue) =>
    typeof issue.input === "object" && issue.input !== null
      ? 'write a computed key as { name: domain, expr: "lower(host)" }: both are required, nothing else is allowed'
      : "write a key as a field name (user_id) or as { name, expr }",
});
export type WindowKeyItem = z.output<typeof KeyItem>;

const AggregateExpression = z
  .string()
  .min(1, "write an aggregate, e.g. count(*)")
  .max(65_536)
  .meta({
    widget: "aggregate",
    placeholder: "count(*)",
    examples: ["count(*)", "sum(amount)", "round(avg(price), 2)", "count(DISTINCT user_id)", "max(temperature)"],
  });

/** The output field a key item produces: its name, or the field a bare field reference reads. */
export function keyItemName(item: WindowKeyItem): string | undefined {
  if (typeof item !== "string") return item.name;
  const parsed = parse(item);
  return parsed.ok && parsed.expr.kind === "field" ? parsed.expr.name : undefined;
}

export function keyItemSource(item: WindowKeyItem): string {
  return typeof item === "string" ? item : item.expr;
}

const config = z
  .strictObject({
    key: z.array(KeyItem).max(32, "at most 32 key expressions").default([]).meta({
      label: "Group by",
      help: "Fields (user_id) or named expressions ({ name: domain, expr: lower(host) }); results are per key and window. Empty: one result per window over all records.",
    }),
    window: windowSpec(),
    aggregates: z
      .record(NewFieldName, AggregateExpression)
      .refine((a) => Object.keys(a).length > 0, "compute at least one aggregate, e.g. hits: count(*)")
      .meta({
        label: "Aggregates",
        help: "Output field → SQL aggregate: count(*), sum(x), avg(x), min(x), max(x), count(DISTINCT x), first(x), last(x), and expressions over them such as round(avg(x), 2).",
        widget: "key-value",
      }),
    time: TimeMode,
    timeField: TimeFieldRef,
    allowedLateness: allowedLateness(
      "Windows are kept that much longer, and a record for a window that already fired emits its updated result.",
    ),
    late: latePolicy(),
    emitEarly: PositiveDuration.refine(
      (ms) => ms >= 1000,
      "early results are emitted at most once a second: use 1s or more",
    )
      .optional()
      .meta({
        label: "Early results every",
        help: "Also emit running results of open windows this often (processing time), with final = false.",
        widget: "duration",
        placeholder: "10s",
        advanced: true,
      }),
  })
  .superRefine((c, ctx) => {
    const taken = new Map<string, string>();
    for (const name of WINDOW_FIELDS) taken.set(name, "a field of the window");
    if (c.emitEarly !== undefined) taken.set(FINAL_FIELD, "the field that marks early results");
    c.key.forEach((item, i) => {
      const name = keyItemName(item);
      const path = typeof item === "string" ? ["key", i] : ["key", i, "name"];
      if (name === undefined) {
        if (typeof item === "string" && parse(item).ok) {
          ctx.addIssue({
            code: "custom",
            path,
            message: `"${item}" is an expression, not a field: name its output field, e.g. { name: key${i + 1}, expr: "${item}" }`,
          });
        }
        return;
      }
      const clash = taken.get(name);
      const invalidName = NewFieldName.safeParse(name);
      if (clash !== undefined || !invalidName.success) {
        ctx.addIssue({
          code: "custom",
          path,
          message: `${clash !== undefined ? `"${name}" is already ${clash}` : `"${name}" cannot be an output field name`}; rename it, e.g. { name: ${name}_key, expr: ${JSON.stringify(keyItemSource(item))} }`,
        });
        return;
      }
      taken.set(name, "a key");
    });
    for (const name of Object.keys(c.aggregates)) {
      const clash = taken.get(name);
      if (clash !== undefined) {
        ctx.addIssue({ code: "custom", path: ["aggregates", name], message: `"${name}" is already ${clash}` });
      }
    }
  });

export type WindowConfig = z.output<typeof config>;

const outPort: PortSpec = { name: "out", doc: "one result per key and window" };
const latePort: PortSpec = { name: LATE_PORT, doc: "records that came after their window was closed (input schema)" };

export function windowPorts(c: WindowConfig): { outputs: PortSpec[] } {
  return { outputs: c.time === "event" && c.late === "output" ? [outPort, latePort] : [outPort] };
}

const timestamp = (name: string, doc: string): Field => field(name, t.timestamp, false, doc);

export const windowDef = defineNode({
  type: "transform.window",
  version: 1,
  kind: "transform",
  title: "Window",
  category: "Aggregate",
  icon: "clock",
  summary: "Aggregates records per key over tumbling, hopping or session windows.",
  docs: `Groups records by key into time windows and emits one aggregate row per key and window, like
\`GROUP BY key, TUMBLE(ts, INTERVAL '1' MINUTE)\` in Flink SQL. Records are partitioned by the key, so each key's
windows live in one partition; with no key every record goes to one partition (a global window).

**Windows.** Tumbling windows (\`{ tumble: 1m }\`) are back to back; hopping windows
(\`{ hop: { size: 10s, every: 2s } }\`) overlap, and a record counts in each of the size / every windows that hold
it; both are aligned to the epoch in UTC and hold times in [start, end). A session window
(\`{ session: { gap: 30s } }\`) is per key: it starts with a record, and every record less than the gap after the
previous one extends it. A record that bridges two sessions merges them, combining their aggregates.

**Output.** Per key and window: the key fields, \`window_start\` and \`window_end\` (epoch ms, end exclusive),
\`window_time\` (= window_end − 1 ms, the row's event time, so windows can feed further windows) and the
aggregates, typed as the expression checker infers them. A key given as a bare field (\`user_id\`) keeps the
field's name; a computed key needs a name. Sessions report the first record's time as \`window_start\` and the last
record's time plus the gap as \`window_end\`.

**When results are emitted (event time, the default).** A window fires once the watermark reaches its end
(watermark ≥ window_end): its row is emitted then, in order of window end and then key, so a replay emits the
same rows in the same order. A record is *late* when its window (for hopping windows: any of its windows) was
already closed for good, that is the watermark is past the window's end plus *Allowed lateness*; for session
windows, a record more than the allowed lateness behind the watermark is late, since a session it would have
joined may already be gone. Late records go to the dead-letter queue with the reason (\`late: dead-letter\`, the
default) or to the \`late\` output (\`late: output\`), never dropped silently, and count in none of their windows
(so a hopping window never holds a record that its neighbours lack). With *Allowed lateness* above 0, a window's state is kept until the watermark passes end + allowed
lateness, and each record that arrives for already-fired windows emits their rows again at once, updated:
write to a sink that upserts by key and window_start and the update replaces the earlier row. (A late record that
extends a session backwards changes its window_start, so that update does not replace the earlier row.)
At the end of a bounded run the watermark moves to the end of time and every open window fires.

**Processing time** (\`time: processing\`): records are placed by the wall-clock time they arrive, and windows fire
on the engine's once-a-second tick once the clock passes their end (so up to about a second late). Nothing is ever
late; *Allowed lateness* and *Late records* do not apply. Results depend on arrival timing, so a replay after a
failure may group records differently.

**Early results.** With *Early results every* set, open windows whose aggregates changed are also emitted every
so often (processing time) with \`final: false\`; the row emitted when the window fires, and updates from late
records, have \`final: true\`. The \`final\` field exists only when early results are on.

**State** is one compact accumulator per key and *pane* (count(DISTINCT x) keeps its distinct values): a pane is the
window itself when tumbling, and a slice of gcd(size, every) when hopping, so a record updates one accumulator
however many windows overlap and a window's result merges its panes when it fires (first() and last() then take
the earliest and latest pane's values). Sessions keep one accumulator per session. A record whose key, time or
aggregate arguments cannot be evaluated goes to the dead-letter queue and counts nowhere.`,
  inputs: [{ name: "in" }],
  outputs: [outPort, latePort],
  ports: windowPorts,
  config,
  examples: [
    {
      title: "Requests per user per minute",
      config: { key: ["user_id"], window: { tumble: "1m" }, aggregates: { hits: "count(*)" }, timeField: "ts" },
    },
    {
      title: "Ten-second moving average per sensor, every two seconds, tolerating stragglers",
      config: {
        key: ["sensor_id"],
        window: { hop: { size: "10s", every: "2s" } },
        aggregates: { readings: "count(*)", avg_temperature: "round(avg(temperature), 2)" },
        timeField: "read_at",
        allowedLateness: "5s",
        late: "output",
      },
    },
    {
      title: "Click sessions per user with a 30-minute gap",
      config: {
        key: ["user_id", { name: "site", expr: "lower(host)" }],
        window: { session: { gap: "30m" } },
        aggregates: { clicks: "count(*)", pages: "count(DISTINCT path)", first_page: "first(path)" },
        timeField: "clicked_at",
      },
    },
    {
      title: "Live revenue per country by the wall clock, updated every 5 seconds",
      config: {
        key: ["country"],
        window: { tumble: "1h" },
        time: "processing",
        aggregates: { revenue: "sum(amount)", orders: "count(*)" },
        emitEarly: "5s",
      },
    },
  ],
  delivery: {},
  keyBy: (c) => ({ in: c.key.map(keyItemSource) }),
  infer: (ctx) => {
    const c = ctx.config;
    const input = ctx.inputs.in ?? emptySchema;
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
    const keys = checkKeys(
      c.key.map(keyItemSource),
      input,
      ctx.parameters,
      (i) => (typeof c.key[i] === "string" ? ["key", i] : ["key", i, "expr"]),
      issues,
    );
    const fields: Field[] = c.key.map((item, i) => {
      const k = keys[i]!;
      return field(keyItemName(item) ?? `key${i + 1}`, k.type, k.nullable);
    });
    fields.push(
      timestamp("window_start", "start of the window (inclusive)"),
      timestamp("window_end", "end of the window (exclusive)"),
      timestamp("window_time", "window_end − 1 ms: the row's event time"),
    );
    const parameters = parameterInfo(ctx.parameters);
    for (const [name, source] of Object.entries(c.aggregates)) {
      const checked = checkExpression(source, { schema: input, parameters }, "aggregate");
      issues.push(...expressionIssues(checked.errors, ["aggregates", name]));
      fields.push(field(name, checked.type ?? t.any, checked.nullable ?? true));
    }
    if (c.emitEarly !== undefined) {
      fields.push(field(FINAL_FIELD, t.boolean, false, "false for early (running) results"));
    }
    const outputs: Record<string, RecordSchema> = {
      out: { fields, open: false, eventTime: "window_time" },
    };
    if (windowPorts(c).outputs.length > 1) outputs[LATE_PORT] = input;
    return { outputs, issues };
  },
  summarize: (c) => {
    const aggs = Object.values(c.aggregates);
    const what = aggs.length > 2 ? `${aggs.slice(0, 2).join(", ")}, +${aggs.length - 2}` : aggs.join(", ");
    const by = c.key.length > 0 ? ` by ${c.key.map((k) => keyItemName(k) ?? keyItemSource(k)).join(", ")}` : "";
    const early = c.emitEarly !== undefined ? ` · early ${formatDuration(c.emitEarly)}` : "";
    return `${what}${by} · ${describeWindow(c.window)}${c.time === "processing" ? " (processing time)" : ""}${early}`;
  },
});
