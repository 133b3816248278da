import type { ValidationIssue } from "@sluice/pipeline/issues";

// How an issue reads is the pipeline package's rule (its tests hold every node type to it); the editor shows that.
export { issueSentence as issueText } from "@sluice/pipeline/issues";

/** The top-level config field an issue points at (issue paths inside a node start with "config"). */
export function issueField(issue: Pick<ValidationIssue, "path">): string | null {
  const path = issue.path ?? [];
  return path[0] === "config" && typeof path[1] === "string" ? path[1] : null;
}
