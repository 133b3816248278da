import { formatDuration } from "@sluice/pipeline/duration";
import { unify } from "@sluice/pipeline/expr/type-rules";
import { defineNode, type InferIssue, type PortSpec } from "@sluice/pipeline/node-definition";
import { emptySchema, type Field, field, type RecordSchema, t, typeName } from "@sluice/pipeline/record-schema";
import { z } from "zod";
import { FieldRef } from "../record-fields";
import { allowedLateness, latePolicy, timeFieldIssues } from "../stateful/event-time";
import { checkKeys, KeyExpression } from "../stateful/key-expressions";
import { describeWindow, fixedWindowSpec, formatSignedDuration, SignedDuration } from "../stateful/window-spec";

export const LATE_PORTS = { left: "late_left", right: "late_right" } as const;
/** The output's event time in an interval join. */
export const JOIN_TIME = "join_time";

const KeyList = z.array(KeyExpression).min(1, "join on at least one expression").max(32, "at most 32 key expressions");

const config = z
  .strictObject({
    on: z
      .strictObject({
        left: KeyList.meta({ label: "Left keys" }),
        right: KeyList.meta({ label: "Right keys" }),
      })
      .superRefine((on, ctx) => {
        if (on.left.length !== on.right.length) {
          ctx.addIssue({
            code: "custom",
            path: ["right"],
            message: `the left side has ${on.left.length} key expression(s) and the right side ${on.right.length}: they are compared pairwise, so give as many on each side`,
          });
        }
      })
      .meta({
        label: "Join on",
        help: "SQL expressions per side, compared pairwise: left[i] = right[i]. A NULL key matches nothing.",
      }),
    type: z.enum(["interval", "window"]).default("interval").meta({
      label: "Join",
      help: "interval: right records within a time range of each left record. window: records in the same window.",
      widget: "select",
    }),
    between: z
      .strictObject({
        lower: SignedDuration.meta({ label: "From", widget: "duration", placeholder: "-5m" }),
        upper: SignedDuration.meta({ label: "To", widget: "duration", placeholder: "0s" }),
      })
      .superRefine((b, ctx) => {
        if (b.lower > b.upper) {
          ctx.addIssue({
            code: "custom",
            path: ["upper"],
            message: `upper (${formatSignedDuration(b.upper)}) is before lower (${formatSignedDuration(b.lower)}): no right record could match`,
          });
        }
      })
      .optional()
      .meta({
        label: "Right time between",
        help: "Interval join: a right record matches when right.time ∈ [left.time + lower, left.time + upper], e.g. lower -5m, upper 0s.",
      }),
    window: fixedWindowSpec().optional().meta({
      label: "Window",
      help: "Window join: records match when both fall in the same tumbling or hopping window.",
    }),
    kind: z.enum(["inner", "left"]).default("inner").meta({
      label: "Kind",
      help: "inner: only matches. left: also each left record that matched nothing, with the right fields NULL.",
      widget: "select",
    }),
    rightPrefix: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, "a prefix is a word such as right_ or bid_")
      .default("right_")
      .meta({ label: "Prefix for clashing right fields", advanced: true }),
    timeField: z.strictObject({ left: FieldRef.optional(), right: FieldRef.optional() }).default({}).meta({
      label: "Event-time fields",
      help: "Per side, the field with the event time (epoch ms). Default: each input's event-time field.",
      advanced: true,
    }),
    allowedLateness: allowedLateness("Records are buffered that much longer, and late pairs are still emitted."),
    late: latePolicy("`late_left` or `late_right`"),
  })
  .superRefine((c, ctx) => {
    if (c.type === "interval") {
      if (c.between === undefined) {
        ctx.addIssue({
          code: "custom",
          path: ["between"],
          message: "an interval join needs between: { lower, upper }, e.g. { lower: -5m, upper: 0s }",
        });
      }
      if (c.window !== undefined) {
        ctx.addIssue({
          code: "custom",
          path: ["window"],
          message: "window is for type: window; remove it or switch type",
        });
      }
    } else {
      if (c.window === undefined) {
        ctx.addIssue({
          code: "custom",
          path: ["window"],
          message: "a window join needs a window, e.g. { tumble: 10s }",
        });
      }
      if (c.between !== undefined) {
        ctx.addIssue({
          code: "custom",
          path: ["between"],
          message: "between is for type: interval; remove it or switch type",
        });
      }
    }
  });

export type JoinConfig = z.output<typeof config>;

const outPort: PortSpec = { name: "out", doc: "joined records: left fields, then right fields" };
const latePorts: PortSpec[] = [
  { name: LATE_PORTS.left, doc: "left records too late to join (left schema)" },
  { name: LATE_PORTS.right, doc: "right records too late to join (right schema)" },
];

function joinPorts(c: JoinConfig): { outputs: PortSpec[] } {
  return { outputs: c.late === "output" ? [outPort, ...latePorts] : [outPort] };
}

/** How the output is laid out: its fields, and the output name of each right field. */
export interface JoinLayout {
  fields: Field[];
  rightNames: Map<string, string>;
  /** The fields the join adds (join_time, or the window's). */
  added: readonly string[];
  issues: InferIssue[];
}

/**
 * Left fields first (a field named like one the join adds is replaced in place), then the right fields, renamed
 * with the prefix when a left field or an added field has their name, then the added fields not placed yet.
 */
export function joinLayout(c: JoinConfig, left: RecordSchema, right: RecordSchema): JoinLayout {
  const addedFields: Field[] =
    c.type === "interval"
      ? [
          field(
            JOIN_TIME,
            t.timestamp,
            false,
            "the later of the two records' times (the left time + upper when unmatched)",
          ),
        ]
      : [
          field("window_start", t.timestamp, false, "start of the window (inclusive)"),
          field("window_end", t.timestamp, false, "end of the window (exclusive)"),
          field("window_time", t.timestamp, false, "window_end − 1 ms: the row's event time"),
        ];
  const added = new Map(addedFields.map((f) => [f.name, f]));
  const fields = left.fields.map((f) => added.get(f.name) ?? f);
  const taken = new Set([...left.fields.map((f) => f.name), ...added.keys()]);
  const rightNames = new Map<string, string>();
  const issues: InferIssue[] = [];
  for (const f of right.fields) {
    let name = f.name;
    if (taken.has(name)) {
      name = `${c.rightPrefix}${f.name}`;
      if (taken.has(name)) {
        issues.push({
          severity: "error",
          code: "field-clash",
          message: `the right field "${f.name}" would be renamed "${name}", which the output already has; choose another rightPrefix`,
          path: ["rightPrefix"],
        });
      }
    }
    taken.add(name);
    rightNames.set(f.name, name);
    fields.push(field(name, f.type, f.nullable || c.kind === "left", f.doc));
  }
  for (const f of addedFields) if (!left.fields.some((l) => l.name === f.name)) fields.push(f);
  return { fields, rightNames, added: [...added.keys()], issues };
}

export const joinDef = defineNode({
  type: "transform.join",
  version: 1,
  kind: "transform",
  title: "Join",
  category: "Combine",
  icon: "merge",
  summary: "Joins two keyed streams by time interval or window, inner or left.",
  docs: `Joins records of the \`left\` and \`right\` inputs whose keys are equal (\`on.left[i] = on.right[i]\`) and whose
event times are close: within an interval (\`type: interval\`) or in the same window (\`type: window\`). Both inputs
are partitioned by their keys, so matching records meet in one partition. A key that is NULL matches nothing, as
in SQL.

**Interval join.** A right record matches a left one when right.time ∈ [left.time + lower, left.time + upper]
(\`between: { lower: -5m, upper: 0s }\`: the right record happened in the five minutes before the left one). The
output gets \`join_time\`, its event time: the later of the two records' times.

**Window join.** Records match when both fall in the same tumbling or hopping window (aligned to the epoch, UTC);
with hopping windows a pair that shares several windows is emitted once per window. The output gets the window's
\`window_start\`, \`window_end\` and \`window_time\` (= window_end − 1 ms, its event time).

**Output.** The left record's fields, then the right record's; a right field whose name the left side (or the
join) already uses gets the prefix (\`rightPrefix\`, default \`right_\`). A left field named like a field the join
adds is replaced in place. The inferred schema says exactly which names result.

**When.** A pair is emitted as soon as its second record arrives, so results flow without waiting for windows to
close. Each record is kept until no record that is not late could still match it: in an interval join a left
record until the watermark passes left.time + upper + allowed lateness, a right record until it passes
right.time − lower + allowed lateness; in a window join until its last window ends + allowed lateness.

**Left join** (\`kind: left\`): a left record that matched nothing is emitted with every right field NULL once it can
no longer match — when the watermark passes its interval or window (plus the allowed lateness), or at once if its
key is NULL. Its \`join_time\` is left.time + upper (left.time if upper is negative); in a window join an unmatched
left record gets one such row per window it matched nothing in. These times are chosen so that no output row is
behind the watermark the next nodes have seen by more than this node's allowed lateness (with none, never late
downstream): event-time nodes after the join should allow at least as much lateness.

**Late records.** A record whose event time is more than *Allowed lateness* behind the watermark (window join: whose
earliest window is closed for good) may have missed records it would have matched, which are gone; it goes to the
dead-letter queue (\`late: dead-letter\`, the default) or to \`late_left\` / \`late_right\` (\`late: output\`).

**State** is every buffered record of both sides (as JSON), for the time above; a key's buffered records are
scanned when a record of the other side arrives.`,
  inputs: [
    { name: "left", doc: "the records every output row starts from (kept even unmatched with kind: left)" },
    { name: "right", doc: "the records joined to them" },
  ],
  outputs: [outPort, ...latePorts],
  ports: joinPorts,
  config,
  examples: [
    {
      title: "Clicks with the ad impression shown in the five minutes before",
      config: {
        on: { left: ["ad_id"], right: ["ad_id"] },
        type: "interval",
        between: { lower: "-5m", upper: "0s" },
        timeField: { left: "clicked_at", right: "shown_at" },
      },
    },
    {
      title: "New auctions with their seller's registration in the same 10-second window (Nexmark q8)",
      config: {
        on: { left: ["seller"], right: ["id"] },
        type: "window",
        window: { tumble: "10s" },
        rightPrefix: "person_",
        timeField: { left: "dateTime", right: "dateTime" },
      },
    },
    {
      title: "Every order, with its payment if one came within an hour",
      config: {
        on: { left: ["order_id"], right: ["order_id"] },
        between: { lower: "0s", upper: "1h" },
        kind: "left",
        timeField: { left: "ordered_at", right: "paid_at" },
        allowedLateness: "1m",
        late: "output",
      },
    },
  ],
  delivery: {},
  keyBy: (c) => ({ left: c.on.left, right: c.on.right }),
  infer: (ctx) => {
    const c = ctx.config;
    const left = ctx.inputs.left ?? emptySchema;
    const right = ctx.inputs.right ?? emptySchema;
    const issues: InferIssue[] = [
      ...timeFieldIssues(c.timeField.left, left, ctx.settings, ["timeField", "left"], "the left input"),
      ...timeFieldIssues(c.timeField.right, right, ctx.settings, ["timeField", "right"], "the right input"),
    ];
    const leftKeys = checkKeys(c.on.left, left, ctx.parameters, (i) => ["on", "left", i], issues);
    const rightKeys = checkKeys(c.on.right, right, ctx.parameters, (i) => ["on", "right", i], issues);
    leftKeys.forEach((l, i) => {
      const r = rightKeys[i];
      if (r !== undefined && unify(l.type, r.type) === undefined) {
        issues.push({
          severity: "error",
          code: "expression-type",
          message: `on.left[${i}] is ${typeName(l.type)} but on.right[${i}] is ${typeName(r.type)}: values of different types never match; CAST one side`,
          path: ["on", "right", i],
        });
      }
    });
    const layout = joinLayout(c, left, right);
    issues.push(...layout.issues);
    const outputs: Record<string, RecordSchema> = {
      out: {
        fields: layout.fields,
        open: left.open || right.open,
        eventTime: c.type === "interval" ? JOIN_TIME : "window_time",
      },
    };
    if (c.late === "output") {
      outputs[LATE_PORTS.left] = left;
      outputs[LATE_PORTS.right] = right;
    }
    return { outputs, issues };
  },
  summarize: (c) => {
    const on = c.on.left.map((l, i) => `${l} = ${c.on.right[i] ?? "?"}`).join(" AND ");
    const when =
      c.type === "window" && c.window !== undefined
        ? describeWindow(c.window)
        : c.between !== undefined
          ? `right time in [${formatSignedDuration(c.between.lower)}, ${formatSignedDuration(c.between.upper)}]`
          : "";
    const lateness = c.allowedLateness > 0 ? ` · lateness ${formatDuration(c.allowedLateness)}` : "";
    return `${c.kind} join on ${on} · ${when}${lateness}`;
  },
});
