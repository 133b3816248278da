import type { PipelineParameter } from "@sluice/pipeline/definition";
import type { ParameterValue } from "@sluice/pipeline/parameters";
import { typedParameterValue } from "../editor/dock/parameter-value";

// What the upgrade dialog says about moving a pipeline to another version of its template: the verb, each
// parameter's fate, the owner's edits that will be replaced and the values to send. Pure, so the wording is tested
// without a browser.

/** One parameter as templates.upgradePlan reports it. */
export interface ParameterChangeView {
  name: string;
  change: "added" | "removed" | "changed" | "kept";
  value?: ParameterValue | undefined;
  dropped?: string | undefined;
  needsValue: boolean;
}

/** What changed in a definition, as templates.upgradePlan reports it (its diff and localEdits). */
export interface DefinitionChanges {
  nodes: { added: string[]; removed: string[]; changed: { id: string; keys: string[] }[] };
  edges: { added: string[]; removed: string[] };
  settings: string[];
  parameters: string[];
  alerts: string[];
  metadata: string[];
}

/** "Upgrade" to a newer version, "Roll back" to an older one. */
export function upgradeVerb(fromVersion: number, toVersion: number): "Upgrade" | "Roll back" {
  return toVersion < fromVersion ? "Roll back" : "Upgrade";
}

/** How a template version is offered in the version select, seen from the pipeline's version `from`. */
export function versionOptionLabel(number: number, from: number, latest: number): string {
  const notes: string[] = [];
  if (number === latest) notes.push("latest");
  if (number === from) notes.push("current");
  else if (number < from) notes.push("roll back");
  return notes.length > 0 ? `v${number} (${notes.join(", ")})` : `v${number}`;
}

/** A parameter value as the table shows it: strings quoted so "" and "false" read apart from false. */
export function parameterValueText(value: ParameterValue | undefined): string {
  if (value === undefined) return "—";
  return typeof value === "string" ? JSON.stringify(value) : String(value);
}

/** The "What happened" cell: the change, and where the value comes from. */
export function parameterChangeText(p: ParameterChangeView): string {
  switch (p.change) {
    case "added":
      return p.needsValue ? "new, needs a value" : "new";
    case "removed":
      return "removed: its value is no longer used";
    case "changed":
      if (p.needsValue) return "declaration changed, needs a value";
      return p.dropped !== undefined ? "declaration changed, value reset" : "declaration changed, value kept";
    case "kept":
      if (p.needsValue) return "needs a value";
      return p.dropped !== undefined ? "value reset" : "value kept";
  }
}

/** The "Value" cell: the value kept, or the new default (said so) where the pipeline's own could not be kept. */
export function parameterResultText(p: ParameterChangeView): string {
  if (p.change === "removed") return "—";
  if (p.value === undefined) return p.needsValue ? "none yet" : "—";
  const text = parameterValueText(p.value);
  return p.change === "added" || p.dropped !== undefined ? `${text} (new default)` : text;
}

/** The owner's edits since the template version, one phrase each: "node filter (config.expr)", "added node x", …. */
export function localEditItems(edits: DefinitionChanges): string[] {
  const items: string[] = [];
  for (const id of edits.nodes.added) items.push(`added node ${id}`);
  for (const id of edits.nodes.removed) items.push(`removed node ${id}`);
  for (const { id, keys } of edits.nodes.changed) {
    items.push(keys.length > 0 ? `node ${id} (${keys.join(", ")})` : `node ${id}`);
  }
  for (const id of edits.edges.added) items.push(`added edge ${id}`);
  for (const id of edits.edges.removed) items.push(`removed edge ${id}`);
  const groups = [
    ["settings", edits.settings],
    ["parameters", edits.parameters],
    ["alerts", edits.alerts],
    ["metadata", edits.metadata],
  ] as const;
  for (const [what, keys] of groups) if (keys.length > 0) items.push(`${what} (${keys.join(", ")})`);
  return items;
}

/**
 * The values to send with the upgrade: what was typed, typed as the target version declares each parameter. Blank
 * inputs send nothing (the value kept or the default stays). Parameters the target version lacks are ignored.
 */
export function upgradeValues(
  declared: readonly Pick<PipelineParameter, "name" | "type">[],
  texts: Readonly<Record<string, string>>,
): Record<string, ParameterValue> {
  const values: Record<string, ParameterValue> = {};
  for (const p of declared) {
    const value = typedParameterValue(p.type, texts[p.name] ?? "");
    if (value !== undefined) values[p.name] = value;
  }
  return values;
}

/** Parameters that need a value and have none typed: the upgrade waits for them. */
export function missingValues(
  parameters: readonly ParameterChangeView[],
  values: Readonly<Record<string, ParameterValue>>,
): string[] {
  return parameters.filter((p) => p.needsValue && !Object.hasOwn(values, p.name)).map((p) => p.name);
}
