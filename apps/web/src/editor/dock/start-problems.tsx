"use client";

import type { ValidationIssue } from "@sluice/pipeline/issues";
import { Dialog } from "@/components/dialog";
import { useEditor, useEditorStore } from "../editor-context";
import { issueField, issueText } from "../issue-text";
import { configPath } from "./problems-panel";

/** Why Start did nothing: the draft's errors, or the server's refusal when the browser found none. */
export interface StartRefusal {
  issues: readonly ValidationIssue[];
  /** The server's sentence, when it refused a draft the browser thought fine (say, a connection deleted since). */
  message: string | null;
}

/** Start on a draft with errors: each problem with where it is and a way to go there. Nothing was saved. */
export function StartProblemsDialog({ refusal, onClose }: { refusal: StartRefusal | null; onClose: () => void }) {
  const store = useEditorStore();
  const edges = useEditor((s) => s.edges);
  const count = refusal?.issues.length ?? 0;
  const show = (issue: ValidationIssue) => {
    if (!issue.nodeId) return;
    onClose();
    store.getState().selectNode(issue.nodeId, { focus: true, path: configPath(issue.path) });
  };
  return (
    <Dialog
      open={refusal !== null}
      onClose={onClose}
      role="alertdialog"
      title={count > 0 ? `Fix ${count === 1 ? "this problem" : `these ${count} problems`} to start` : "Cannot start"}
      description={
        <p>
          Nothing was saved and no run was started.{" "}
          {count > 0 ? "Each problem names the node and field to change." : null}
        </p>
      }
    >
      {refusal?.message ? (
        <p className="form-error" data-testid="start-refusal">
          {refusal.message}
        </p>
      ) : null}
      {count > 0 ? (
        <ul className="start-problems" data-testid="start-problems">
          {refusal?.issues.map((issue) => {
            const edge = issue.edgeIndex !== undefined ? edges[issue.edgeIndex] : undefined;
            const field = issueField(issue);
            const where = issue.nodeId ?? (edge ? `${edge.source} → ${edge.target}` : "Pipeline");
            return (
              <li
                key={`${issue.code}-${issue.nodeId ?? ""}-${issue.edgeIndex ?? ""}-${(issue.path ?? []).join(".")}-${issue.message}`}
                className="start-problem"
              >
                <span className="problem-where">
                  {where}
                  {field ? <span className="muted"> · {field}</span> : null}
                </span>
                <span className="problem-text">{issueText(issue)}</span>
                {issue.nodeId ? (
                  <button type="button" className="button button-small" onClick={() => show(issue)}>
                    Show {issue.nodeId}
                  </button>
                ) : null}
              </li>
            );
          })}
        </ul>
      ) : null}
      <div className="dialog-actions">
        <button type="button" className="button button-primary" onClick={onClose}>
          Close
        </button>
      </div>
    </Dialog>
  );
}
