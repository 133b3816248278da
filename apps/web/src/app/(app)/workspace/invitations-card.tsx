"use client";

import { mayGrant, ROLES, type Role } from "@sluice/api/workspaces/roles";
import { skipToken, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useId, useState } from "react";
import { TextField } from "@/components/text-field";
import { errorMessage, formErrors } from "@/lib/errors";
import { formatAbsolute, formatRelative } from "@/lib/format";
import { useWorkspaceRole } from "@/lib/use-workspace-role";
import { useTRPC } from "@/trpc/react";

const ROLE_LABEL: Record<Role, string> = { OWNER: "Owner", ADMIN: "Admin", EDITOR: "Editor", VIEWER: "Viewer" };
const EXPIRY_DAYS = [1, 3, 7, 14, 30] as const;

/** Invitation links: admins make them (a role, an optional email, an expiry), see the pending ones, and revoke them. */
export function InvitationsCard() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const { role: myRole, can, why } = useWorkspaceRole();
  const allowed = can("manageMembers");
  const pending = useQuery(trpc.invitations.list.queryOptions(allowed ? undefined : skipToken));
  const revoke = useMutation(
    trpc.invitations.revoke.mutationOptions({
      onSuccess: () => queryClient.invalidateQueries(trpc.invitations.list.queryFilter()),
    }),
  );
  return (
    <section className="card" aria-labelledby="invitations-title">
      <div className="card-head">
        <h2 id="invitations-title" className="card-title">
          Invitations
        </h2>
      </div>
      {allowed && myRole ? (
        <>
          <InviteForm myRole={myRole} />
          {pending.isError ? (
            <p className="form-error" role="alert">
              {errorMessage(pending.error)}
            </p>
          ) : null}
          {revoke.error ? (
            <p className="form-error" role="alert">
              {errorMessage(revoke.error)}
            </p>
          ) : null}
          {pending.data && pending.data.length > 0 ? (
            <table className="table" aria-label="Pending invitations">
              <thead>
                <tr>
                  <th scope="col">Role</th>
                  <th scope="col">For</th>
                  <th scope="col">Invited by</th>
                  <th scope="col">Expires</th>
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {pending.data.map((i) => (
                  <tr key={i.id}>
                    <td>{ROLE_LABEL[i.role]}</td>
                    <td className={i.email ? "mono" : "muted"}>{i.email ?? "anyone with the link"}</td>
                    <td>{i.invitedBy}</td>
                    <td title={formatAbsolute(i.expiresAt)} className={i.expired ? "muted" : undefined}>
                      {i.expired ? `expired ${formatRelative(i.expiresAt)}` : formatRelative(i.expiresAt)}
                    </td>
                    <td className="cell-actions">
                      <button
                        type="button"
                        className="button button-ghost button-small button-ghost-danger"
                        aria-label={`Revoke the ${ROLE_LABEL[i.role].toLowerCase()} invitation ${i.email ? `for ${i.email}` : "for anyone"}`}
                        disabled={revoke.isPending}
                        onClick={() => revoke.mutate({ id: i.id })}
                      >
                        {i.expired ? "Clear" : "Revoke"}
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : pending.isSuccess ? (
            <p className="muted">No pending invitations.</p>
          ) : null}
        </>
      ) : (
        <p className="muted">{why("manageMembers")}</p>
      )}
    </section>
  );
}

function InviteForm({ myRole }: { myRole: Role }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const id = useId();
  const [role, setRole] = useState<Role>("VIEWER");
  const [email, setEmail] = useState("");
  const [days, setDays] = useState(7);
  const [copied, setCopied] = useState(false);
  const create = useMutation(
    trpc.invitations.create.mutationOptions({
      onSuccess: () => queryClient.invalidateQueries(trpc.invitations.list.queryFilter()),
    }),
  );
  const errors = formErrors(create.error, ["role", "email", "expiresInDays"]);
  const link = create.data ? `${window.location.origin}/invite/${create.data.token}` : null;
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    setCopied(false);
    create.mutate({ role, email: email.trim() === "" ? undefined : email, expiresInDays: days });
  };
  const copy = async () => {
    if (!link) return;
    await navigator.clipboard.writeText(link).then(
      () => setCopied(true),
      () => setCopied(false),
    );
  };
  return (
    <>
      <form className="invite-form" onSubmit={submit} noValidate aria-label="Invite someone">
        <div className="field">
          <label htmlFor={`${id}-role`} className="field-label">
            Role
          </label>
          <select id={`${id}-role`} className="input" value={role} onChange={(e) => setRole(e.target.value as Role)}>
            {ROLES.filter((r) => mayGrant(myRole, r)).map((r) => (
              <option key={r} value={r}>
                {ROLE_LABEL[r]}
              </option>
            ))}
          </select>
        </div>
        <TextField
          label="Email (optional)"
          type="email"
          value={email}
          onChange={(e) => setEmail(e.target.value)}
          error={errors.fields.email}
          hint="When given, only the account with this email can accept."
          autoComplete="off"
        />
        <div className="field">
          <label htmlFor={`${id}-days`} className="field-label">
            Expires after
          </label>
          <select id={`${id}-days`} className="input" value={days} onChange={(e) => setDays(Number(e.target.value))}>
            {EXPIRY_DAYS.map((d) => (
              <option key={d} value={d}>
                {d === 1 ? "1 day" : `${d} days`}
              </option>
            ))}
          </select>
        </div>
        <button type="submit" className="button button-primary" disabled={create.isPending}>
          {create.isPending ? "Creating…" : "Create invitation link"}
        </button>
      </form>
      {errors.form ? (
        <p className="form-error" role="alert">
          {errors.form}
        </p>
      ) : null}
      {link && create.data ? (
        <div className="token-once" role="status">
          <p>
            Send this link to the person you invite. It is shown <strong>only now</strong>, works once, and expires{" "}
            {formatAbsolute(create.data.expiresAt)}.
          </p>
          <div className="copy-row">
            <input className="input mono" readOnly value={link} aria-label="Invitation link" />
            <button type="button" className="button" onClick={() => void copy()}>
              {copied ? "Copied" : "Copy"}
            </button>
          </div>
        </div>
      ) : null}
    </>
  );
}
