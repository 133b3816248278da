"use client";

import type { Me } from "@sluice/api/auth/auth-router.types";
import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useEffect, useRef, useState } from "react";
import { Dialog } from "@/components/dialog";
import { NewWorkspaceForm } from "@/components/new-workspace-form";
import { switchWorkspace } from "@/lib/workspace-choice";
import { useCurrentWorkspaceId, useTRPC } from "@/trpc/react";

const ROLE_LABEL = { OWNER: "owner", ADMIN: "admin", EDITOR: "editor", VIEWER: "viewer" } as const;

/**
 * "Who am I" as the server rendered it, kept live: seeded into the query cache so every useWorkspaceRole knows the
 * role at the first render, and read again whenever the API refuses something (see trpc/react.tsx).
 */
function useMe(initial: Me): Me {
  const trpc = useTRPC();
  const [renderedAt] = useState(() => Date.now());
  const me = useQuery(
    trpc.auth.me.queryOptions(undefined, { initialData: initial, initialDataUpdatedAt: renderedAt, staleTime: 30_000 }),
  );
  return me.data ?? initial;
}

/** The header's workspace: which one this page works in, the role held there, and a menu to switch or make one. */
export function WorkspaceSwitcher({ me: initial }: { me: Me }) {
  const me = useMe(initial);
  const currentId = useCurrentWorkspaceId();
  const current = me.workspaces.find((w) => w.id === currentId) ?? null;
  const [creating, setCreating] = useState(false);
  const menu = useRef<HTMLDetailsElement>(null);

  // A disclosure menu: closed by Escape and by a click anywhere else.
  useEffect(() => {
    const close = (event: Event) => {
      const details = menu.current;
      if (!details?.open) return;
      if (event instanceof KeyboardEvent ? event.key === "Escape" : !details.contains(event.target as Node)) {
        details.open = false;
      }
    };
    document.addEventListener("click", close);
    document.addEventListener("keydown", close);
    return () => {
      document.removeEventListener("click", close);
      document.removeEventListener("keydown", close);
    };
  }, []);

  return (
    <>
      <details className="workspace-menu" ref={menu}>
        <summary className="workspace-current" data-testid="current-workspace">
          <span className="visually-hidden">Workspace: </span>
          <span className="workspace-current-name">{current?.name ?? "No workspace"}</span>
          {current ? <span className="workspace-role">{ROLE_LABEL[current.role]}</span> : null}
        </summary>
        <div className="workspace-menu-panel">
          <p className="workspace-menu-heading">Your workspaces</p>
          <ul className="workspace-menu-list">
            {me.workspaces.map((w) => (
              <li key={w.id}>
                <button
                  type="button"
                  className="workspace-menu-item"
                  aria-current={w.id === currentId ? "true" : undefined}
                  onClick={() => (w.id === currentId ? undefined : switchWorkspace(w.id, "/pipelines"))}
                >
                  <span>{w.name}</span>
                  <span className="workspace-role">{ROLE_LABEL[w.role]}</span>
                </button>
              </li>
            ))}
          </ul>
          <div className="workspace-menu-actions">
            {current ? (
              <Link
                href="/workspace"
                className="workspace-menu-link"
                onClick={() => menu.current?.removeAttribute("open")}
              >
                Members and settings
              </Link>
            ) : null}
            <button
              type="button"
              className="workspace-menu-link"
              onClick={() => {
                menu.current?.removeAttribute("open");
                setCreating(true);
              }}
            >
              New workspace…
            </button>
          </div>
        </div>
      </details>
      <Dialog open={creating} onClose={() => setCreating(false)} title="New workspace">
        <NewWorkspaceForm onCancel={() => setCreating(false)} />
      </Dialog>
    </>
  );
}

/**
 * Under the header when the user is no longer a member of the workspace this page was opened in (removed, or it was
 * deleted): says so, and offers the way out instead of leaving every section to fail on its own.
 */
export function MembershipNotice({ me: initial }: { me: Me }) {
  const me = useMe(initial);
  const currentId = useCurrentWorkspaceId();
  if (!currentId || me.workspaces.some((w) => w.id === currentId)) return null;
  const next = me.workspaces[0];
  return (
    <div className="editor-banner banner-error" role="alert" data-testid="membership-ended">
      <span>You are no longer a member of this workspace: an admin removed you, or it was deleted.</span>
      {next ? (
        <button type="button" className="button button-small" onClick={() => switchWorkspace(next.id, "/pipelines")}>
          Go to {next.name}
        </button>
      ) : (
        <button type="button" className="button button-small" onClick={() => window.location.assign("/pipelines")}>
          Continue
        </button>
      )}
    </div>
  );
}
