import type { PipelineParameter } from "@sluice/pipeline/definition";
import type { Control } from "@/forms/schema";
import type { ConfigPath } from "@/forms/values";

// "Make this a parameter" on a config field: the declaration that field's control implies (its type, its options,
// the current value as default, its label and help), named after the field, and the `{{name}}` the field then holds.

const WHOLE_REF = /^\{\{\s*[A-Za-z_][A-Za-z0-9_]*\s*\}\}$/;

/** Whether a field can become a parameter: a single value that is not secret and not a parameter already. */
export function canBeParameter(control: Control, value: unknown): boolean {
  if (typeof value === "string" && WHOLE_REF.test(value)) return false;
  switch (control.kind) {
    case "text":
      return !control.secret;
    case "expression":
    case "connection":
    case "number":
    case "boolean":
    case "enum":
    case "scalar":
      return true;
    default:
      return false;
  }
}

/** An identifier from the field's path (`window.size` → `window_size`), not one of `taken`. */
function parameterName(path: ConfigPath, taken: ReadonlySet<string>): string {
  const words = path.filter((p): p is string => typeof p === "string").join("_");
  let base = words.replace(/[^A-Za-z0-9_]+/g, "_").replace(/^([^A-Za-z_])/, "_$1") || "param";
  base = base.slice(0, 60);
  let name = base;
  for (let n = 2; taken.has(name); n++) name = `${base}${n}`;
  return name;
}

function typeOf(
  control: Control,
  value: unknown,
): Pick<PipelineParameter, "type" | "choices" | "connectorType" | "min" | "max"> {
  switch (control.kind) {
    case "expression":
      return { type: "expression" };
    case "connection":
      return { type: "connection", connectorType: control.connectionType ?? "" };
    case "number":
      return {
        type: control.integer ? "integer" : "number",
        ...(control.min !== undefined ? { min: control.min } : {}),
        ...(control.max !== undefined ? { max: control.max } : {}),
      };
    case "boolean":
      return { type: "boolean" };
    case "enum":
      return control.options.every((o) => typeof o === "string")
        ? { type: "choice", choices: control.options as string[] }
        : { type: "string" };
    case "scalar":
      return typeof value === "number" ? { type: "number" } : { type: "string" };
    default:
      return { type: "string" };
  }
}

/** The declaration for the field at `path` and the text that replaces its value. */
export function parameterFromField(
  control: Control,
  path: ConfigPath,
  value: unknown,
  taken: ReadonlySet<string>,
): { parameter: PipelineParameter; reference: string } {
  const name = parameterName(path, taken);
  const current = value === undefined ? control.defaultValue : value;
  const fits = typeof current === "string" || typeof current === "number" || typeof current === "boolean";
  const parameter: PipelineParameter = {
    name,
    ...typeOf(control, current),
    label: control.label,
    ...(fits && current !== "" ? { default: current } : {}),
    ...(control.help ? { description: control.help } : {}),
  };
  return { parameter, reference: `{{${name}}}` };
}
