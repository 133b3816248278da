"use client";

import type { PipelineProblem } from "@sluice/pipeline/issues";
import { Dialog } from "@/components/dialog";
import { configPath } from "@/editor/dock/problems-panel";
import type { StartRefusal } from "@/editor/dock/start-refusal";
import { useEditor, useEditorStore } from "@/editor/editor-context";
import { issueField } from "@/editor/issue-text";

/** Start refused: each problem with where it is and a way to go there, and whether anything was saved. */
export function StartProblemsDialog({ refusal, onClose }: { refusal: StartRefusal | null; onClose: () => void }) {
  const store = useEditorStore();
  const edges = useEditor((s) => s.edges);
  const count = refusal?.problems.length ?? 0;
  const show = (problem: PipelineProblem) => {
    if (!problem.nodeId) return;
    onClose();
    store.getState().selectNode(problem.nodeId, { focus: true, path: configPath(problem.path) });
  };
  const saved =
    refusal?.savedVersion != null
      ? `Version ${refusal.savedVersion} was saved, but no run was started.`
      : "Nothing was saved and no run was started.";
  return (
    <Dialog
      open={refusal !== null}
      onClose={onClose}
      role="alertdialog"
      title={count > 0 ? `Fix ${count === 1 ? "this problem" : `these ${count} problems`} to start` : "Cannot start"}
      description={
        <p>
          {saved} {count > 0 ? "Each problem names the node and field to change." : null}
        </p>
      }
    >
      {refusal?.message && count === 0 ? (
        <p className="form-error" data-testid="start-refusal">
          {refusal.message}
        </p>
      ) : null}
      {count > 0 ? (
        <ul className="start-problems" data-testid="start-problems">
          {refusal?.problems.map((problem) => {
            const edge = problem.edgeIndex !== undefined ? edges[problem.edgeIndex] : undefined;
            const field = issueField(problem);
            const where = problem.nodeId ?? (edge ? `${edge.source} → ${edge.target}` : "Pipeline");
            return (
              <li
                key={`${problem.nodeId ?? ""}-${problem.edgeIndex ?? ""}-${problem.path.join(".")}-${problem.message}`}
                className="start-problem"
              >
                <span className="problem-where">
                  {where}
                  {field ? <span className="muted"> · {field}</span> : null}
                </span>
                <span className="problem-text">{problem.message}</span>
                {problem.nodeId ? (
                  <button type="button" className="button button-small" onClick={() => show(problem)}>
                    Show {problem.nodeId}
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
