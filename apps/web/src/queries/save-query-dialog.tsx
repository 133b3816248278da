"use client";

import { type FormEvent, useId, useState } from "react";
import { Dialog } from "@/components/dialog";

/** The saved query the page has open: "Save" changes it. */
export interface OpenSavedQuery {
  id: string;
  name: string;
  description: string;
}

export interface SaveQueryFields {
  name: string;
  description: string;
}

interface SaveQueryDialogProps {
  open: boolean;
  onClose: () => void;
  /** Null when the page's query is not a saved one: then it can only be saved as a new one. */
  current: OpenSavedQuery | null;
  /** Saves and says why it could not (the dialog stays open), or null when it did. */
  onSave: (as: "update" | "create", fields: SaveQueryFields) => Promise<string | null>;
  /** The parameters saved with the query: name, type and the default (the value shown on the page). */
  parameters?: readonly { name: string; type: string; default: string | number | null }[];
}

export function SaveQueryDialog({ open, onClose, current, onSave, parameters = [] }: SaveQueryDialogProps) {
  return (
    <Dialog open={open} onClose={onClose} title="Save query">
      <SaveQueryForm current={current} onClose={onClose} onSave={onSave} parameters={parameters} />
    </Dialog>
  );
}

function SaveQueryForm({ current, onClose, onSave, parameters = [] }: Omit<SaveQueryDialogProps, "open">) {
  const ids = { name: useId(), description: useId() };
  // "update" while the open saved query is being saved again; "Save as new…" switches to a new name.
  const [mode, setMode] = useState<"update" | "create">(current ? "update" : "create");
  const [name, setName] = useState(current?.name ?? "");
  const [description, setDescription] = useState(current?.description ?? "");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (!name.trim()) {
      setError("Give the query a name.");
      return;
    }
    setBusy(true);
    const problem = await onSave(mode, { name: name.trim(), description: description.trim() });
    setBusy(false);
    if (problem) setError(problem);
    else onClose();
  };

  const saveAsNew = () => {
    setMode("create");
    setName(current ? `${current.name} (copy)` : "");
    setError(null);
  };

  return (
    <form onSubmit={(e) => void submit(e)} className="dialog-form">
      {current && mode === "create" ? (
        <p className="muted">A new saved query; "{current.name}" stays as it is.</p>
      ) : null}
      <div className="field">
        <label htmlFor={ids.name} className="field-label">
          Name
        </label>
        <input
          id={ids.name}
          className="input"
          value={name}
          onChange={(e) => setName(e.target.value)}
          maxLength={100}
          autoFocus
          autoComplete="off"
          aria-invalid={error ? true : undefined}
        />
      </div>
      <div className="field">
        <label htmlFor={ids.description} className="field-label">
          Description
        </label>
        <textarea
          id={ids.description}
          className="input"
          value={description}
          onChange={(e) => setDescription(e.target.value)}
          maxLength={2000}
          rows={3}
        />
      </div>
      {parameters.length > 0 ? (
        <p className="muted" data-testid="save-query-parameters">
          Saved with its parameters:{" "}
          {parameters
            .map((p) => `${p.name} (${p.type}${p.default !== null ? `, default ${p.default}` : ""})`)
            .join(", ")}
          .
        </p>
      ) : null}
      {error ? (
        <p className="form-error" role="alert">
          {error}
        </p>
      ) : null}
      <div className="dialog-actions">
        <button type="button" className="button" onClick={onClose} disabled={busy}>
          Cancel
        </button>
        {current && mode === "update" ? (
          <button type="button" className="button" onClick={saveAsNew} disabled={busy}>
            Save as new…
          </button>
        ) : null}
        <button type="submit" className="button button-primary" disabled={busy}>
          {busy ? "Saving…" : "Save"}
        </button>
      </div>
    </form>
  );
}
