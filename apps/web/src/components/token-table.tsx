"use client";

import type { RouterOutputs } from "@/components/api-types";
import { formatAbsolute, formatRelative } from "@/lib/format";

// A list of API tokens as every token page shows them: never a secret, only the prefix that tells tokens apart, with
// what each may do, until when, and when and from where it was last used.

export type TokenItem = RouterOutputs["tokens"]["mine"][number];

const ROLE_LABEL = { OWNER: "owner", ADMIN: "admin", EDITOR: "editor", VIEWER: "viewer" } as const;

interface TokenTableProps {
  tokens: readonly TokenItem[];
  label: string;
  /** Workspace tokens: the role each acts with, and who made it. */
  showRole?: boolean;
  showCreator?: boolean;
  /** Offered for active tokens; absent, the table only lists. */
  onRevoke?: (token: TokenItem) => void;
  revoking?: boolean;
}

function stateText(t: TokenItem): string {
  if (t.state === "revoked" && t.revokedAt) return `revoked ${formatRelative(t.revokedAt)}`;
  if (t.state === "expired") return `expired ${formatRelative(t.expiresAt)}`;
  return `expires ${formatRelative(t.expiresAt)}`;
}

export function TokenTable({ tokens, label, showRole, showCreator, onRevoke, revoking }: TokenTableProps) {
  return (
    <table className="table" aria-label={label}>
      <thead>
        <tr>
          <th scope="col">Name</th>
          <th scope="col">Token</th>
          <th scope="col">Scopes</th>
          {showRole ? <th scope="col">Role</th> : null}
          <th scope="col">Validity</th>
          <th scope="col">Last used</th>
          {onRevoke ? (
            <th scope="col">
              <span className="visually-hidden">Actions</span>
            </th>
          ) : null}
        </tr>
      </thead>
      <tbody>
        {tokens.map((t) => (
          <tr key={t.id} data-testid={`token-${t.name}`} className={t.state === "active" ? undefined : "muted"}>
            <td>
              {t.name}
              {showCreator ? <div className="table-sub">made by {t.createdBy.name}</div> : null}
            </td>
            <td className="mono">{t.prefix}…</td>
            <td>{t.scopes.join(", ")}</td>
            {showRole ? <td>{t.role ? ROLE_LABEL[t.role] : "—"}</td> : null}
            <td title={formatAbsolute(t.state === "revoked" && t.revokedAt ? t.revokedAt : t.expiresAt)}>
              {stateText(t)}
            </td>
            <td title={t.lastUsedAt ? formatAbsolute(t.lastUsedAt) : undefined}>
              {t.lastUsedAt ? formatRelative(t.lastUsedAt) : <span className="muted">never</span>}
              {t.lastUsedFrom ? <div className="table-sub mono">{t.lastUsedFrom}</div> : null}
            </td>
            {onRevoke ? (
              <td className="cell-actions">
                {t.state === "active" ? (
                  <button
                    type="button"
                    className="button button-ghost button-small button-ghost-danger"
                    aria-label={`Revoke ${t.name}`}
                    disabled={revoking}
                    onClick={() => onRevoke(t)}
                  >
                    Revoke
                  </button>
                ) : null}
              </td>
            ) : null}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
