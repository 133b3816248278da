import type { PipelineParameter } from "@sluice/pipeline/definition";
import { typedParameterValue } from "../editor/dock/parameter-value";
import { sentence } from "../lib/errors";

// What the "Use template" form starts from and sends: each parameter's text as first shown (its default; for a
// connection slot, the workspace connection that fits it), and the typed values made from what was typed.

interface ConnectionChoice {
  name: string;
  type: string;
}

/** The workspace's connections that can fill a slot: those of its connector type (any, when it names none). */
export function connectionsForSlot<C extends ConnectionChoice>(
  slot: Pick<PipelineParameter, "connectorType">,
  connections: readonly C[],
): C[] {
  return connections.filter((c) => slot.connectorType === undefined || c.type === slot.connectorType);
}

/**
 * The connection a slot starts with: the one named as the slot's default, else the only one that fits; "" when
 * there is no such one (none fits, or several do and the default names none of them).
 */
export function preselectedConnection(
  slot: Pick<PipelineParameter, "connectorType" | "default">,
  connections: readonly ConnectionChoice[],
): string {
  const fitting = connectionsForSlot(slot, connections);
  const named = fitting.find((c) => c.name === slot.default);
  if (named) return named.name;
  return fitting.length === 1 ? fitting[0]!.name : "";
}

/**
 * Each parameter's starting text: its default as written, or the preselected connection for a slot. A checkbox
 * cannot show "no value", so a boolean without a default starts as false: what is shown is what is sent.
 */
export function initialTexts(
  parameters: readonly PipelineParameter[],
  connections: readonly ConnectionChoice[],
): Record<string, string> {
  const texts: Record<string, string> = {};
  for (const p of parameters) {
    if (p.type === "connection") texts[p.name] = preselectedConnection(p, connections);
    else if (p.default !== undefined) texts[p.name] = String(p.default);
    else texts[p.name] = p.type === "boolean" ? "false" : "";
  }
  return texts;
}

/** The values to send: each parameter's text typed as it declares; blank ones are left out (the default applies). */
export function parameterValues(
  parameters: readonly PipelineParameter[],
  texts: Readonly<Record<string, string>>,
): Record<string, string | number | boolean> {
  const values: Record<string, string | number | boolean> = {};
  for (const p of parameters) {
    const value = typedParameterValue(p.type, texts[p.name] ?? "");
    if (value !== undefined) values[p.name] = value;
  }
  return values;
}

/** Tags as typed, comma separated: trimmed, lower-cased, blanks and repeats dropped. */
export function parseTags(text: string): string[] {
  const tags = text
    .split(",")
    .map((t) => t.trim().toLowerCase())
    .filter((t) => t.length > 0);
  return [...new Set(tags)];
}

interface ErrorShape {
  message?: unknown;
  data?: { fields?: { path: string; message: string }[] | null } | null;
}

interface TemplateUseProblems {
  /** What no input shows, for the top of the form; null when nothing. */
  form: string | null;
  /** The pipeline name's problem. */
  name: string | null;
  /** By parameter name, for the parameters the form shows. */
  parameters: Record<string, string>;
}

const PATH_PART = /^([A-Za-z_][\w.]*): (.+)$/s;
// A value the run's checks refuse (ParameterError): `parameter "limit": 0 is less than the minimum, 1`.
const PARAMETER_PART = /^parameter "([A-Za-z_][A-Za-z0-9_]*)": (.+)$/s;
const VALUE_PATH = /^values\.([A-Za-z_][A-Za-z0-9_]*)$/;

/**
 * An API refusal of "Use template" split by where the form shows it: a value's problem (`values.limit: …` or
 * `parameter "limit": …`) beside the parameter's input, the name's beside the name, the rest on top.
 */
export function templateUseProblems(error: unknown, shown: ReadonlySet<string>): TemplateUseProblems {
  const result: TemplateUseProblems = { form: null, name: null, parameters: {} };
  if (!error) return result;
  const shape = error as ErrorShape;
  const fields = shape.data?.fields;
  const parts =
    fields && fields.length > 0
      ? fields
      : String(shape.message ?? "")
          .split("; ")
          .map((part) => {
            const m = PARAMETER_PART.exec(part) ?? PATH_PART.exec(part);
            if (!m) return { path: "", message: part };
            return { path: part.startsWith("parameter ") ? `values.${m[1]}` : m[1]!, message: m[2]! };
          });
  const rest: string[] = [];
  for (const { path, message } of parts) {
    const parameter = VALUE_PATH.exec(path)?.[1];
    if (parameter !== undefined && shown.has(parameter)) result.parameters[parameter] ??= sentence(message);
    else if (path === "name") result.name ??= sentence(message);
    else if (parameter !== undefined) rest.push(`${parameter}: ${message}`);
    else rest.push(path && path !== "input" ? `${path}: ${message}` : message);
  }
  result.form = rest.length > 0 ? sentence(rest.join("; ")) : null;
  return result;
}
