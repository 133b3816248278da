"use client";

import type { MemberView } from "@sluice/api/workspaces/member-router.types";
import { mayGrant, ROLES, type Role } from "@sluice/api/workspaces/roles";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Dialog } from "@/components/dialog";
import { errorMessage } from "@/lib/errors";
import { formatAbsolute, formatRelative } from "@/lib/format";
import { useWorkspaceRole } from "@/lib/use-workspace-role";
import { useTRPC } from "@/trpc/react";

const ROLE_LABEL: Record<Role, string> = { OWNER: "Owner", ADMIN: "Admin", EDITOR: "Editor", VIEWER: "Viewer" };

/** What each role may do, in a sentence, beside the role picker. */
const ROLE_MEANING: Record<Role, string> = {
  VIEWER: "reads and watches pipelines, runs, connections and alerts",
  EDITOR: "edits pipelines, starts and stops runs, previews, schedules and alerts",
  ADMIN: "also manages members, invitations and connections",
  OWNER: "also hands the workspace over and deletes it",
};

type Pending = { kind: "remove" | "transfer"; member: MemberView } | null;

/** The workspace's members and their roles; admins change roles up to admin and remove members, owners any. */
export function MembersCard() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const members = useQuery(trpc.members.list.queryOptions());
  const { role: myRole, why } = useWorkspaceRole();
  const [pending, setPending] = useState<Pending>(null);
  const [rowError, setRowError] = useState<{ userId: string; text: string } | null>(null);
  const refresh = () =>
    Promise.all([
      queryClient.invalidateQueries(trpc.members.list.queryFilter()),
      queryClient.invalidateQueries(trpc.auth.me.queryFilter()),
    ]);
  const setRole = useMutation(trpc.members.setRole.mutationOptions({ onSuccess: refresh }));
  const remove = useMutation(trpc.members.remove.mutationOptions({ onSuccess: refresh }));
  const transfer = useMutation(trpc.members.transferOwnership.mutationOptions({ onSuccess: refresh }));
  const manageRefusal = why("manageMembers");

  /** Why the caller may not change `member`, or undefined when they may. */
  const refusalFor = (member: MemberView): string | undefined => {
    if (manageRefusal) return manageRefusal;
    if (myRole && !mayGrant(myRole, member.role)) return "Only owners can change or remove an owner.";
    return undefined;
  };

  const change = async (member: MemberView, role: Role) => {
    setRowError(null);
    try {
      await setRole.mutateAsync({ userId: member.userId, role });
    } catch (err) {
      setRowError({ userId: member.userId, text: errorMessage(err) });
    }
  };

  const close = () => {
    setPending(null);
    remove.reset();
    transfer.reset();
  };
  const confirmError = remove.error ?? transfer.error;

  return (
    <section className="card" aria-labelledby="members-title">
      <div className="card-head">
        <h2 id="members-title" className="card-title">
          Members {members.data ? <span className="count-pill count-neutral">{members.data.length}</span> : null}
        </h2>
      </div>
      <ul className="role-meanings">
        {ROLES.map((r) => (
          <li key={r}>
            <strong>{ROLE_LABEL[r]}</strong>: {ROLE_MEANING[r]}
          </li>
        ))}
      </ul>
      {members.isError ? (
        <p className="form-error" role="alert">
          {errorMessage(members.error)}
        </p>
      ) : null}
      {members.data ? (
        <table className="table" aria-label="Members">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Email</th>
              <th scope="col">Role</th>
              <th scope="col">Joined</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {members.data.map((m) => {
              const refusal = refusalFor(m);
              return (
                <tr key={m.userId} data-testid={`member-${m.email}`}>
                  <td>
                    {m.name}
                    {m.you ? <span className="muted"> (you)</span> : null}
                    {rowError?.userId === m.userId ? (
                      <p className="field-error" role="alert">
                        {rowError.text}
                      </p>
                    ) : null}
                  </td>
                  <td className="mono">{m.email}</td>
                  <td>
                    <select
                      className="input input-small"
                      aria-label={`Role of ${m.name}`}
                      value={m.role}
                      disabled={refusal !== undefined || setRole.isPending}
                      title={refusal}
                      onChange={(e) => void change(m, e.target.value as Role)}
                    >
                      {ROLES.map((r) => (
                        <option key={r} value={r} disabled={myRole !== null && !mayGrant(myRole, r)}>
                          {ROLE_LABEL[r]}
                        </option>
                      ))}
                    </select>
                  </td>
                  <td className="muted" title={formatAbsolute(m.joinedAt)}>
                    {formatRelative(m.joinedAt)}
                  </td>
                  <td className="cell-actions">
                    <div className="row-actions">
                      {myRole === "OWNER" && !m.you && m.role !== "OWNER" ? (
                        <button
                          type="button"
                          className="button button-ghost button-small"
                          aria-label={`Make ${m.name} the owner`}
                          onClick={() => setPending({ kind: "transfer", member: m })}
                        >
                          Make owner…
                        </button>
                      ) : null}
                      {m.you ? null : (
                        <button
                          type="button"
                          className="button button-ghost button-small button-ghost-danger"
                          aria-label={`Remove ${m.name}`}
                          disabled={refusal !== undefined}
                          title={refusal}
                          onClick={() => setPending({ kind: "remove", member: m })}
                        >
                          Remove…
                        </button>
                      )}
                    </div>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      ) : members.isPending ? (
        <p className="muted">Loading members…</p>
      ) : null}
      <Dialog
        open={pending !== null}
        onClose={close}
        title={
          pending?.kind === "transfer"
            ? `Make ${pending.member.name} the owner?`
            : `Remove ${pending?.member.name ?? ""} from the workspace?`
        }
        role="alertdialog"
        dismissible={!remove.isPending && !transfer.isPending}
        description={
          pending?.kind === "transfer" ? (
            <p>They become an owner and you become an admin: you can no longer delete the workspace or hand it over.</p>
          ) : (
            <p>Their next request to this workspace is refused. Schedules they made stop starting runs.</p>
          )
        }
      >
        {confirmError ? (
          <p className="form-error" role="alert">
            {errorMessage(confirmError)}
          </p>
        ) : null}
        <div className="dialog-actions">
          <button type="button" className="button" onClick={close}>
            Cancel
          </button>
          {pending?.kind === "transfer" ? (
            <button
              type="button"
              className="button button-primary"
              disabled={transfer.isPending}
              onClick={() => transfer.mutate({ userId: pending.member.userId }, { onSuccess: close })}
            >
              {transfer.isPending ? "Handing over…" : "Make owner"}
            </button>
          ) : (
            <button
              type="button"
              className="button button-danger"
              disabled={remove.isPending || pending === null}
              onClick={() => pending && remove.mutate({ userId: pending.member.userId }, { onSuccess: close })}
            >
              {remove.isPending ? "Removing…" : "Remove member"}
            </button>
          )}
        </div>
      </Dialog>
    </section>
  );
}
