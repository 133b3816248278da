import type { PipelineProblem, ValidationIssue } from "@sluice/pipeline/issues";
import { issueText } from "../issue-text";

// What the Start dialog lists, from either side: the draft's own errors, found in the browser, or the problems the
// server refused the start for (`data.problems` of the tRPC error, put there by the API's errorFormatter).

/** Why Start did nothing: the draft's errors, or the server's refusal when the browser found none. */
export interface StartRefusal {
  /** The problems found in the browser, or those the server listed with its refusal (already sentences). */
  problems: readonly PipelineProblem[];
  /** The server's sentence, when it refused a draft the browser thought fine (say, a connection deleted since). */
  message: string | null;
  /** A version the refused start saved all the same, so the dialog does not claim nothing was saved. */
  savedVersion: number | null;
}

/** The draft's own errors, worded and placed as the server words and places the problems it refuses a start for. */
export function browserProblems(issues: readonly ValidationIssue[]): PipelineProblem[] {
  return issues.map((issue) => ({
    ...(issue.nodeId !== undefined ? { nodeId: issue.nodeId } : {}),
    ...(issue.edgeIndex !== undefined ? { edgeIndex: issue.edgeIndex } : {}),
    path: issue.path ?? [],
    message: issueText(issue),
  }));
}

/**
 * The problems a refused start listed (the API's errorFormatter puts them in `data.problems`), else none. Their
 * sentences lead with "Node <id>: "; the dialog names the node in its own column, so that lead is dropped.
 */
export function serverProblems(error: unknown): PipelineProblem[] {
  const listed = (error as { data?: { problems?: unknown } | null } | null)?.data?.problems;
  if (!Array.isArray(listed)) return [];
  return listed.flatMap((p: Partial<PipelineProblem> | null) =>
    p && typeof p.message === "string"
      ? [
          {
            ...(typeof p.nodeId === "string" ? { nodeId: p.nodeId } : {}),
            ...(typeof p.edgeIndex === "number" ? { edgeIndex: p.edgeIndex } : {}),
            path: Array.isArray(p.path) ? p.path : [],
            message:
              typeof p.nodeId === "string" && p.message.startsWith(`Node ${p.nodeId}: `)
                ? p.message.slice(`Node ${p.nodeId}: `.length)
                : p.message,
          },
        ]
      : [],
  );
}
