"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { type FormEvent, useState } from "react";
import { Dialog } from "@/components/dialog";
import { TextField } from "@/components/text-field";
import { errorMessage, formErrors } from "@/lib/errors";
import { useWorkspaceRole } from "@/lib/use-workspace-role";
import { switchWorkspace } from "@/lib/workspace-choice";
import { useTRPC } from "@/trpc/react";
import { InvitationsCard } from "./invitations-card";
import { MembersCard } from "./members-card";
import { WorkspaceTokensCard } from "./tokens-card";

// The workspace this page works in: its name, its members and their roles, invitations, and leaving or deleting it.
// Everyone sees it; what a role may not do is disabled with the reason (useWorkspaceRole), and the API refuses it
// regardless.

export function WorkspaceSettings() {
  const { workspace, role, can, why } = useWorkspaceRole();
  if (!workspace || !role) {
    return (
      <main className="page">
        <p className="muted" aria-live="polite">
          Loading the workspace…
        </p>
      </main>
    );
  }
  return (
    <main className="page">
      <div className="page-header">
        <div>
          <h1 className="page-title">{workspace.name}</h1>
          <p className="page-subtitle">
            Members, roles and invitations of this workspace. You are {role === "VIEWER" ? "a" : "an"}{" "}
            {role.toLowerCase()} here.
          </p>
        </div>
        <div className="page-header-actions">
          <Link href="/audit" className="button" aria-disabled={!can("readAuditLog")} title={why("readAuditLog")}>
            Audit log
          </Link>
        </div>
      </div>
      <RenameCard key={workspace.name} name={workspace.name} />
      <MembersCard />
      <InvitationsCard />
      <WorkspaceTokensCard />
      <LeaveOrDeleteCard name={workspace.name} workspaceId={workspace.id} />
    </main>
  );
}

function RenameCard({ name: current }: { name: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const { why } = useWorkspaceRole();
  const refusal = why("renameWorkspace");
  const [name, setName] = useState(current);
  const rename = useMutation(
    trpc.workspaces.rename.mutationOptions({
      onSuccess: () => queryClient.invalidateQueries(trpc.auth.me.queryFilter()),
    }),
  );
  const errors = formErrors(rename.error, ["name"]);
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    rename.mutate({ name });
  };
  return (
    <section className="card" aria-labelledby="workspace-name-title">
      <div className="card-head">
        <h2 id="workspace-name-title" className="card-title">
          Name
        </h2>
      </div>
      <form className="inline-form" onSubmit={submit} noValidate>
        <fieldset className="inspector-fields" disabled={refusal !== undefined} title={refusal}>
          <TextField
            label="Workspace name"
            value={name}
            onChange={(e) => setName(e.target.value)}
            error={errors.fields.name ?? errors.form ?? undefined}
            maxLength={100}
            autoComplete="off"
          />
          <button type="submit" className="button" disabled={rename.isPending || name.trim() === current}>
            {rename.isPending ? "Renaming…" : "Rename"}
          </button>
        </fieldset>
      </form>
    </section>
  );
}

function LeaveOrDeleteCard({ name, workspaceId }: { name: string; workspaceId: string }) {
  const trpc = useTRPC();
  const { why, workspace } = useWorkspaceRole();
  const [confirm, setConfirm] = useState<"leave" | "delete" | null>(null);
  const [typed, setTyped] = useState("");
  const me = useQueryClient().getQueryData(trpc.auth.me.queryKey());
  // Where to go afterwards: another workspace of theirs, or the page that offers to make one.
  const elsewhere = () => {
    const next = me?.workspaces.find((w) => w.id !== workspaceId);
    if (next) switchWorkspace(next.id, "/pipelines");
    else window.location.assign("/pipelines");
  };
  const leave = useMutation(trpc.members.leave.mutationOptions({ onSuccess: elsewhere }));
  const remove = useMutation(trpc.workspaces.delete.mutationOptions({ onSuccess: elsewhere }));
  const deleteRefusal = why("ownWorkspace");
  const close = () => {
    setConfirm(null);
    setTyped("");
    leave.reset();
    remove.reset();
  };
  const busy = leave.isPending || remove.isPending;
  return (
    <section className="card card-danger" aria-labelledby="danger-title">
      <div className="card-head">
        <h2 id="danger-title" className="card-title">
          Leave or delete
        </h2>
      </div>
      <div className="danger-row">
        <p>
          Leave this workspace: you lose access to its pipelines and runs until someone invites you again.
          {workspace?.role === "OWNER" ? " Its last owner cannot leave: make another member owner first." : ""}
        </p>
        <button type="button" className="button button-danger" onClick={() => setConfirm("leave")}>
          Leave workspace…
        </button>
      </div>
      <div className="danger-row">
        <p>Delete this workspace with everything in it: pipelines, runs, connections, schedules and members.</p>
        <button
          type="button"
          className="button button-danger"
          disabled={deleteRefusal !== undefined}
          title={deleteRefusal}
          onClick={() => setConfirm("delete")}
        >
          Delete workspace…
        </button>
      </div>
      <Dialog
        open={confirm === "leave"}
        onClose={close}
        title={`Leave ${name}?`}
        role="alertdialog"
        dismissible={!busy}
        description={<p>You will no longer see its pipelines, runs or connections.</p>}
      >
        {leave.error ? (
          <p className="form-error" role="alert">
            {errorMessage(leave.error)}
          </p>
        ) : null}
        <div className="dialog-actions">
          <button type="button" className="button" onClick={close} disabled={busy}>
            Cancel
          </button>
          <button type="button" className="button button-danger" disabled={busy} onClick={() => leave.mutate()}>
            {leave.isPending ? "Leaving…" : "Leave workspace"}
          </button>
        </div>
      </Dialog>
      <Dialog
        open={confirm === "delete"}
        onClose={close}
        title={`Delete ${name}?`}
        role="alertdialog"
        dismissible={!busy}
        description={
          <p>
            Everything in it is deleted at once and cannot be brought back. Its active runs must be stopped first. Type
            its name to confirm.
          </p>
        }
      >
        <form
          className="dialog-form"
          onSubmit={(event) => {
            event.preventDefault();
            remove.mutate({ confirmName: typed });
          }}
        >
          <TextField
            label="Workspace name"
            value={typed}
            onChange={(e) => setTyped(e.target.value)}
            error={remove.error ? errorMessage(remove.error) : undefined}
            autoComplete="off"
            autoFocus
          />
          <div className="dialog-actions">
            <button type="button" className="button" onClick={close} disabled={busy}>
              Cancel
            </button>
            <button type="submit" className="button button-danger" disabled={busy || typed !== name}>
              {remove.isPending ? "Deleting…" : "Delete workspace"}
            </button>
          </div>
        </form>
      </Dialog>
    </section>
  );
}
