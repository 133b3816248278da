"use client";

import { type NodeProps, NodeResizer } from "@xyflow/react";
import { type KeyboardEvent, memo, useEffect, useId, useRef, useState } from "react";
import { useEditorStore } from "../editor-context";
import type { NoteFlowNode } from "../store/flow-model";

// A sticky note: free text on the canvas, stored in the definition's `ui.notes`, meaningless to the pipeline.
// Double-click (or its Edit button, or Enter) to write; text edits, moves and resizes are undoable like any edit.

function NoteNodeView({ id, data, selected }: NodeProps<NoteFlowNode>) {
  const store = useEditorStore();
  // A note just added (empty and selected) opens for writing.
  const [editing, setEditing] = useState(() => data.text === "" && Boolean(selected));
  const textId = useId();
  const area = useRef<HTMLTextAreaElement>(null);

  useEffect(() => {
    if (editing) area.current?.focus();
  }, [editing]);

  const stop = () => setEditing(false);
  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    event.stopPropagation(); // typing is not a canvas shortcut
    if (event.key === "Escape" || (event.key === "Enter" && (event.metaKey || event.ctrlKey))) {
      event.preventDefault();
      stop();
      area.current?.closest<HTMLElement>(".react-flow__node")?.focus();
    }
  };

  return (
    <div className={`note${selected ? " is-selected" : ""}`}>
      <NodeResizer isVisible={Boolean(selected)} minWidth={140} minHeight={80} lineClassName="note-resize-line" />
      {editing ? (
        <>
          <label htmlFor={textId} className="visually-hidden">
            Note text
          </label>
          <textarea
            id={textId}
            ref={area}
            className="note-text nodrag nowheel nopan"
            value={data.text}
            placeholder="Write a note…"
            onChange={(e) => store.getState().setNoteText(id, e.target.value)}
            onBlur={stop}
            onKeyDown={onKeyDown}
          />
        </>
      ) : (
        // biome-ignore lint/a11y/noStaticElementInteractions: double-click is a shortcut; the Edit button is the accessible path
        <div className="note-body" onDoubleClick={() => setEditing(true)}>
          {data.text ? <p className="note-content">{data.text}</p> : <p className="note-placeholder">Empty note</p>}
          <button
            type="button"
            className="note-edit nodrag"
            onClick={() => setEditing(true)}
            aria-label="Edit note"
            title="Edit note (double-click)"
          >
            <svg viewBox="0 0 24 24" width={13} height={13} aria-hidden="true" focusable="false">
              <path d="M4 20h4L19 9l-4-4L4 16v4Z" fill="none" stroke="currentColor" strokeWidth={2} />
            </svg>
          </button>
        </div>
      )}
    </div>
  );
}

export const NoteNode = memo(NoteNodeView);
