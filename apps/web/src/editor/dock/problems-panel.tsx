"use client";

import type { ValidationIssue } from "@sluice/pipeline/issues";
import { useId, useState } from "react";
import { useEditor, useEditorStore } from "../editor-context";
import { issueText } from "../issue-text";

/** The part of an issue's path inside the node's config ("config", "where" → "where"), or null. */
export function configPath(path: ValidationIssue["path"]): (string | number)[] | null {
  return path && path[0] === "config" && path.length > 1 ? path.slice(1) : null;
}

/** Every validation issue of the draft; clicking one selects (and shows) its node. */
export function ProblemsPanel() {
  const store = useEditorStore();
  const issues = useEditor((s) => s.validation.issues);
  const edges = useEditor((s) => s.edges);
  const [open, setOpen] = useState(true);
  const listId = useId();
  const errors = issues.filter((i) => i.severity === "error").length;
  const warnings = issues.length - errors;
  const sorted = [...issues].sort((a, b) => (a.severity === b.severity ? 0 : a.severity === "error" ? -1 : 1));

  return (
    <section className={`problems${open ? " is-open" : ""}`} aria-label="Problems">
      <button
        type="button"
        className="problems-toggle"
        aria-expanded={open}
        aria-controls={listId}
        onClick={() => setOpen((o) => !o)}
      >
        <span className="problems-chevron" aria-hidden="true">
          {open ? "▾" : "▸"}
        </span>
        <span className="problems-heading">Problems</span>
        {errors > 0 ? (
          <span className="count-pill count-error">
            {errors} {errors === 1 ? "error" : "errors"}
          </span>
        ) : null}
        {warnings > 0 ? (
          <span className="count-pill count-warning">
            {warnings} {warnings === 1 ? "warning" : "warnings"}
          </span>
        ) : null}
        {issues.length === 0 ? <span className="count-pill count-ok">No problems</span> : null}
      </button>
      {open ? (
        <ul id={listId} className="problems-list">
          {sorted.map((issue, i) => {
            const edge = issue.edgeIndex !== undefined ? edges[issue.edgeIndex] : undefined;
            const where = issue.nodeId ?? (edge ? `${edge.source} → ${edge.target}` : "pipeline");
            const key = `${issue.code}-${issue.nodeId ?? ""}-${issue.edgeIndex ?? ""}-${i}`;
            const content = (
              <>
                <span className={`issue-dot issue-dot-${issue.severity}`} aria-label={issue.severity} role="img" />
                <span className="problem-where">{where}</span>
                <span className="problem-text">{issueText(issue)}</span>
              </>
            );
            const nodeId = issue.nodeId;
            return (
              <li key={key}>
                {nodeId ? (
                  <button
                    type="button"
                    className="problem"
                    onClick={() => store.getState().selectNode(nodeId, { focus: true, path: configPath(issue.path) })}
                  >
                    {content}
                  </button>
                ) : (
                  <div className="problem">{content}</div>
                )}
              </li>
            );
          })}
          {issues.length === 0 ? <li className="problem problem-none">The pipeline is ready to run.</li> : null}
        </ul>
      ) : null}
    </section>
  );
}
