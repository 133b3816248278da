import type { ValidationIssue } from "@sluice/pipeline/issues";

/** An issue as one sentence for the UI: message, where in an expression, and the suggestion if there is one. */
export function issueText(issue: ValidationIssue): string {
  const at = issue.position ? ` (line ${issue.position.line}, column ${issue.position.column})` : "";
  const hint = issue.suggestion ? ` Did you mean “${issue.suggestion}”?` : "";
  const message = issue.message.length > 0 ? issue.message[0]!.toUpperCase() + issue.message.slice(1) : issue.message;
  return `${message}${at}.${hint}`.replace(/([.!?])\.(\s|$)/, "$1$2");
}

/** The top-level config field an issue points at (issue paths inside a node start with "config"). */
export function issueField(issue: ValidationIssue): string | null {
  const path = issue.path ?? [];
  return path[0] === "config" && typeof path[1] === "string" ? path[1] : null;
}
