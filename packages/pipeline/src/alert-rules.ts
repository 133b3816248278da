import { z } from "zod";
import { parseDuration } from "./duration";

// Alert rules: part of the pipeline definition (spec.alerts), so they export, import and version with it. The web
// process evaluates them against a running job's figures and status (api/src/alerts). One flat shape for every kind
// of rule, so the editor's settings form is generated from this schema like any other; which fields a kind needs
// is checked in AlertRule's refinement, with sentences that name the field.

export const ALERT_KINDS = ["errorRate", "noData", "lagAbove", "backlogAbove", "runFailed", "runStalled"] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];

export const ALERT_SEVERITIES = ["info", "warning", "critical"] as const;
export type AlertSeverity = (typeof ALERT_SEVERITIES)[number];

/** An error-rate window reads per-second figures, which live in Redis for 5 minutes. */
export const MAX_ALERT_WINDOW_MS = 5 * 60_000;
/** The error-rate window when a rule gives none. */
export const DEFAULT_ALERT_WINDOW_MS = 60_000;

const RuleDuration = z
  .union([z.string(), z.number()])
  .refine((v) => parseDuration(v) !== undefined, { message: "write a duration such as 30s, 5m or 1h" });

export const AlertRule = z
  .strictObject({
    id: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_-]{0,63}$/, "rule ids start with a letter or _ and use letters, digits, _ and -")
      .meta({
        label: "Rule id",
        help: "Names the rule in alerts and webhooks; unique in the pipeline.",
        placeholder: "orders-stalled",
      }),
    when: z.enum(ALERT_KINDS).meta({
      label: "Fires when",
      help: "errorRate: errors per second above the threshold over the window. noData: no records out of the node (or the sinks) for the duration. lagAbove: the watermark trails now by more than the duration. backlogAbove: a shuffle edge holds more than the threshold. runFailed: the run failed. runStalled: no records anywhere for the duration.",
    }),
    node: z.string().min(1).max(64).optional().meta({
      label: "Node",
      help: "The node the rule watches; empty for the whole pipeline (its sinks for noData, any node otherwise).",
      placeholder: "orders",
    }),
    threshold: z.number().finite().min(0).optional().meta({
      label: "Threshold",
      help: "errorRate: errors per second. backlogAbove: entries waiting on an edge into the node.",
    }),
    duration: RuleDuration.optional().meta({
      label: "Duration",
      help: "noData and runStalled: how long without records. lagAbove: how far the watermark may trail.",
      placeholder: "5m",
    }),
    window: RuleDuration.optional().meta({
      label: "Window",
      help: "errorRate: the span the rate is measured over, at most 5 minutes (1 minute when empty).",
      placeholder: "1m",
      advanced: true,
    }),
    severity: z.enum(ALERT_SEVERITIES).default("warning").meta({ label: "Severity" }),
    // A connection, not a URL: webhook URLs carry their token, and the definition is versioned, shown and exported.
    connection: z.string().min(1).max(200).optional().meta({
      label: "Webhook connection",
      help: "Also POST each firing and recovery through this webhook connection as Slack-compatible JSON; every alert reaches the in-app inbox.",
      widget: "connection",
      connectionType: "webhook",
    }),
  })
  .superRefine((rule, ctx) => {
    const need = (field: "threshold" | "duration", why: string) => {
      if (rule[field] === undefined) ctx.addIssue({ code: "custom", path: [field], message: why });
    };
    if (rule.when === "errorRate") need("threshold", "an errorRate rule needs the errors per second it fires above");
    if (rule.when === "backlogAbove") need("threshold", "a backlogAbove rule needs the backlog it fires above");
    if (rule.when === "noData" || rule.when === "runStalled" || rule.when === "lagAbove") {
      need("duration", `a ${rule.when} rule needs a duration`);
    }
    if (rule.window !== undefined && (parseDuration(rule.window) ?? 0) > MAX_ALERT_WINDOW_MS) {
      ctx.addIssue({ code: "custom", path: ["window"], message: "a window is at most 5 minutes" });
    }
    if ((rule.when === "runFailed" || rule.when === "runStalled") && rule.node !== undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["node"],
        message: `a ${rule.when} rule watches the whole run: leave the node empty`,
      });
    }
  });

export const AlertRules = z
  .array(AlertRule)
  .max(100, "a pipeline has at most 100 alert rules")
  .superRefine((rules, ctx) => {
    const seen = new Set<string>();
    rules.forEach((r, i) => {
      if (seen.has(r.id))
        ctx.addIssue({ code: "custom", path: [i, "id"], message: `another rule is already called "${r.id}"` });
      seen.add(r.id);
    });
  });

export type AlertRule = z.infer<typeof AlertRule>;
