"use client";

import { useMutation, useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { errorCode, errorMessage } from "@/lib/errors";
import { formatAbsolute } from "@/lib/format";
import { switchWorkspace } from "@/lib/workspace-choice";
import { useTRPC } from "@/trpc/react";

const ROLE_PHRASE = { OWNER: "an owner", ADMIN: "an admin", EDITOR: "an editor", VIEWER: "a viewer" } as const;

const STATE_TEXT = {
  expired: "This invitation has expired. Ask whoever sent it for a new one.",
  used: "This invitation was already used: each link works once. Ask for a new one.",
  revoked: "This invitation was revoked. Ask an admin of the workspace for a new one.",
} as const;

export function InviteView({ token, signedInAs }: { token: string; signedInAs: string | null }) {
  const trpc = useTRPC();
  const preview = useQuery(trpc.invitations.preview.queryOptions({ token }, { retry: false }));
  const accept = useMutation(
    trpc.invitations.accept.mutationOptions({
      onSuccess: ({ workspaceId }) => switchWorkspace(workspaceId, "/pipelines"),
    }),
  );
  const back = encodeURIComponent(`/invite/${token}`);

  if (preview.isPending) {
    return (
      <p className="muted" aria-live="polite">
        Opening the invitation…
      </p>
    );
  }
  if (preview.isError) {
    return (
      <div className="auth-form">
        <h1 className="auth-title">Invitation not found</h1>
        <p className="form-error" role="alert">
          {errorCode(preview.error) === "BAD_REQUEST"
            ? "This is not a whole invitation link: copy all of it and try again."
            : errorMessage(preview.error)}
        </p>
      </div>
    );
  }
  const invitation = preview.data;
  const state = invitation.state;
  const open = state === "pending";
  return (
    <div className="auth-form">
      <h1 className="auth-title">Join {invitation.workspaceName}</h1>
      <p data-testid="invitation-summary">
        {invitation.invitedBy} invites you to the workspace <strong>{invitation.workspaceName}</strong> as{" "}
        <strong>{ROLE_PHRASE[invitation.role]}</strong>.
      </p>
      {invitation.email ? (
        <p className="muted">
          Only the account with the email <span className="mono">{invitation.email}</span> can accept it.
        </p>
      ) : null}
      {open ? (
        <p className="muted">The link works once, until {formatAbsolute(invitation.expiresAt)}.</p>
      ) : (
        <p className="form-error" role="alert">
          {STATE_TEXT[state]}
        </p>
      )}
      {accept.error ? (
        <p className="form-error" role="alert">
          {errorMessage(accept.error)}
        </p>
      ) : null}
      {open && signedInAs ? (
        <>
          <p className="muted">You are signed in as {signedInAs}.</p>
          <button
            type="button"
            className="button button-primary button-block"
            disabled={accept.isPending || accept.isSuccess}
            onClick={() => accept.mutate({ token })}
          >
            {accept.isPending || accept.isSuccess ? "Joining…" : `Join ${invitation.workspaceName}`}
          </button>
        </>
      ) : null}
      {open && !signedInAs ? (
        <>
          <Link href={`/signup?next=${back}`} className="button button-primary button-block">
            Create an account to join
          </Link>
          <p className="auth-switch">
            Already have an account? <Link href={`/signin?next=${back}`}>Sign in to join</Link>
          </p>
        </>
      ) : null}
      {signedInAs ? (
        <p className="auth-switch">
          <Link href="/pipelines">Go to your pipelines</Link>
        </p>
      ) : null}
    </div>
  );
}
