// What validation reports. Never thrown: every check returns a list of these.

export type IssueSeverity = "error" | "warning";

export interface SourcePosition {
  /** 0-based offset into the expression text. */
  offset: number;
  /** 1-based line and column, as people count them. */
  line: number;
  column: number;
  length: number;
}

export interface ValidationIssue {
  severity: IssueSeverity;
  /** Stable machine-readable code, e.g. `unknown-field`, `cycle`, `config-invalid`. */
  code: string;
  message: string;
  nodeId?: string;
  edgeIndex?: number;
  /** Path inside the definition (or inside a node's config when nodeId is set). */
  path?: (string | number)[];
  position?: SourcePosition;
  suggestion?: string;
}

export function hasErrors(issues: readonly ValidationIssue[]): boolean {
  return issues.some((i) => i.severity === "error");
}

/**
 * An issue as one sentence for a person: capitalised, with where in an expression and the suggestion if there is
 * one. Config messages are sentences already; structural ones ("the pipeline has no sink") become one here.
 */
export function issueSentence(issue: ValidationIssue): string {
  const at = issue.position ? ` (line ${issue.position.line}, column ${issue.position.column})` : "";
  const hint = issue.suggestion ? ` Did you mean “${issue.suggestion}”?` : "";
  const message = issue.message.length > 0 ? issue.message[0]!.toUpperCase() + issue.message.slice(1) : issue.message;
  return `${message}${at}.${hint}`.replace(/([.!?])\.(\s|$)/, "$1$2");
}

/** A problem as a person reads it, with where it is for a form to point at (see `problemOf`). */
export interface PipelineProblem {
  nodeId?: string;
  edgeIndex?: number;
  /** Inside the node (its config) when nodeId is set, else inside the definition; empty for the whole. */
  path: (string | number)[];
  message: string;
}

/** The issue's sentence, led by the node it is in when the sentence does not already name that node. */
export function problemSentence(issue: ValidationIssue): string {
  const text = issueSentence(issue);
  const id = issue.nodeId;
  if (id === undefined || [`(${id})`, `"${id}"`, `“${id}”`].some((named) => text.includes(named))) return text;
  return `Node ${id}: ${text}`;
}

export function problemOf(issue: ValidationIssue): PipelineProblem {
  return {
    ...(issue.nodeId !== undefined ? { nodeId: issue.nodeId } : {}),
    ...(issue.edgeIndex !== undefined ? { edgeIndex: issue.edgeIndex } : {}),
    path: issue.path ?? [],
    message: problemSentence(issue),
  };
}

/** One line for logs and terminals: where (node, edge, path, line:column), then the message as validation wrote it. */
export function formatIssue(issue: ValidationIssue): string {
  const where = [
    issue.nodeId !== undefined ? `node ${issue.nodeId}` : undefined,
    issue.edgeIndex !== undefined ? `edge ${issue.edgeIndex}` : undefined,
    issue.path && issue.path.length > 0 ? issue.path.join(".") : undefined,
    issue.position ? `${issue.position.line}:${issue.position.column}` : undefined,
  ].filter((x) => x !== undefined);
  const hint = issue.suggestion ? ` (did you mean "${issue.suggestion}"?)` : "";
  return `${where.length > 0 ? `${where.join(" ")}: ` : ""}${issue.message}${hint}`;
}
