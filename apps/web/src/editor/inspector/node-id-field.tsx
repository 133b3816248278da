"use client";

import { type KeyboardEvent, useId, useState } from "react";
import { useEditorStore, useRunStore } from "../editor-context";

/** The node's id, renamed on Enter or when the field loses focus; refused (with the reason) if invalid or taken. */
export function NodeIdField({ nodeId }: { nodeId: string }) {
  const store = useEditorStore();
  const runStore = useRunStore();
  const id = useId();
  const [draft, setDraft] = useState(nodeId);
  const [error, setError] = useState<string | null>(null);
  const commit = () => {
    const next = draft.trim();
    const problem = store.getState().renameNode(nodeId, next);
    // The run's counters are keyed by the ids it started with: keep showing them under the new name.
    if (problem === null) runStore.getState().renameNode(nodeId, next);
    setError(problem);
  };
  const onKeyDown = (event: KeyboardEvent<HTMLInputElement>) => {
    if (event.key === "Enter") {
      event.preventDefault();
      commit();
    } else if (event.key === "Escape") {
      setDraft(nodeId);
      setError(null);
    }
  };
  return (
    <div className="field">
      <div className="field-label-row">
        <label htmlFor={id} className="field-label">
          Node id
        </label>
      </div>
      <input
        id={id}
        className="input input-code"
        value={draft}
        onChange={(e) => {
          setDraft(e.target.value);
          setError(null);
        }}
        onBlur={commit}
        onKeyDown={onKeyDown}
        autoComplete="off"
        spellCheck={false}
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? `${id}-error` : `${id}-hint`}
      />
      {error ? (
        <p id={`${id}-error`} className="field-error" role="alert">
          {error}
        </p>
      ) : (
        <p id={`${id}-hint`} className="field-hint">
          Edges and expressions refer to the node by this name.
        </p>
      )}
    </div>
  );
}
