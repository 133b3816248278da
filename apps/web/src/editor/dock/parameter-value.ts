import type { PipelineParameter } from "@sluice/pipeline/definition";

/**
 * A parameter value typed as its parameter asks, from what was typed: blank is no value; a number field's text that
 * is no number stays text, so validation names it. Used for a parameter's default and for a schedule's values.
 */
export function typedParameterValue(type: PipelineParameter["type"], text: string): PipelineParameter["default"] {
  if (text === "") return undefined;
  if ((type === "number" || type === "integer") && text.trim() !== "" && Number.isFinite(Number(text)))
    return Number(text);
  if (type === "boolean" && (text === "true" || text === "false")) return text === "true";
  return text;
}
