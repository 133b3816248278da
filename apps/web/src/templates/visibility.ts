import type { RouterOutputs } from "@/components/api-types";

type Visibility = RouterOutputs["templates"]["get"]["visibility"];

/** Who sees a template, as the forms offer it. */
export const VISIBILITY_OPTIONS: readonly { value: Visibility; label: string }[] = [
  { value: "PRIVATE", label: "Only me" },
  { value: "WORKSPACE", label: "This workspace" },
  { value: "LINK", label: "Anyone with a link" },
];

export function visibilityLabel(value: Visibility): string {
  return VISIBILITY_OPTIONS.find((o) => o.value === value)?.label ?? value;
}
