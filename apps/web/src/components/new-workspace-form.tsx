"use client";

import { useMutation } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { TextField } from "@/components/text-field";
import { formErrors } from "@/lib/errors";
import { switchWorkspace } from "@/lib/workspace-choice";
import { useTRPC } from "@/trpc/react";

/** Makes a workspace the user owns and opens it. */
export function NewWorkspaceForm({ onCancel }: { onCancel?: () => void }) {
  const trpc = useTRPC();
  const [name, setName] = useState("");
  const create = useMutation(
    trpc.workspaces.create.mutationOptions({ onSuccess: ({ id }) => switchWorkspace(id, "/pipelines") }),
  );
  const errors = formErrors(create.error, ["name"]);
  const busy = create.isPending || create.isSuccess;
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (!busy) create.mutate({ name });
  };
  return (
    <form className="dialog-form" onSubmit={submit} noValidate>
      {errors.form ? (
        <p className="form-error" role="alert">
          {errors.form}
        </p>
      ) : null}
      <TextField
        label="Workspace name"
        value={name}
        onChange={(e) => setName(e.target.value)}
        error={errors.fields.name}
        hint="You will be its owner: invite others from its settings."
        maxLength={100}
        autoComplete="off"
        autoFocus
        required
      />
      <div className="dialog-actions">
        {onCancel ? (
          <button type="button" className="button" onClick={onCancel} disabled={busy}>
            Cancel
          </button>
        ) : null}
        <button type="submit" className="button button-primary" disabled={busy}>
          {busy ? "Creating…" : "Create workspace"}
        </button>
      </div>
    </form>
  );
}
