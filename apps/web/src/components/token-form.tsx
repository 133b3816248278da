"use client";

import { SCOPE_MEANING, TOKEN_SCOPES, type TokenScope } from "@sluice/api/tokens/token-scopes";
import { type FormEvent, useId, useState } from "react";
import { TextField } from "@/components/text-field";
import { formErrors } from "@/lib/errors";

// The form that makes a personal or workspace API token: a name, its scopes, how long it lives, and for a workspace
// token the role it acts with.

const EXPIRY_DAYS = [7, 30, 90, 365] as const;
const TOKEN_ROLES = [
  ["VIEWER", "Viewer: reads"],
  ["EDITOR", "Editor: pipelines, runs, schedules"],
  ["ADMIN", "Admin: also connections"],
] as const;
type TokenRole = (typeof TOKEN_ROLES)[number][0];

export interface NewTokenInput {
  name: string;
  scopes: TokenScope[];
  expiresInDays: number;
  role?: TokenRole;
}

interface TokenFormProps {
  /** Workspace tokens choose a role; personal ones act with their maker's. */
  withRole: boolean;
  pending: boolean;
  error: unknown;
  onCreate: (input: NewTokenInput) => void;
}

export function TokenForm({ withRole, pending, error, onCreate }: TokenFormProps) {
  const id = useId();
  const [name, setName] = useState("");
  const [scopes, setScopes] = useState<TokenScope[]>(["read"]);
  const [days, setDays] = useState<number>(90);
  const [role, setRole] = useState<TokenRole>("VIEWER");
  const errors = formErrors(error, ["name", "scopes", "expiresInDays", "role"]);
  const toggle = (scope: TokenScope, on: boolean) =>
    setScopes((current) => (on ? [...current, scope] : current.filter((s) => s !== scope)));
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    onCreate({ name, scopes, expiresInDays: days, ...(withRole ? { role } : {}) });
  };
  return (
    <form className="token-form" onSubmit={submit} noValidate aria-label="New API token">
      <div className="token-form-row">
        <TextField
          label="Name"
          value={name}
          onChange={(e) => setName(e.target.value)}
          error={errors.fields.name}
          hint="What uses it: a script, a CI job, Prometheus."
          maxLength={100}
          autoComplete="off"
        />
        <div className="field">
          <label htmlFor={`${id}-expiry`} className="field-label">
            Expires after
          </label>
          <select id={`${id}-expiry`} className="input" value={days} onChange={(e) => setDays(Number(e.target.value))}>
            {EXPIRY_DAYS.map((d) => (
              <option key={d} value={d}>
                {d === 365 ? "1 year" : `${d} days`}
              </option>
            ))}
          </select>
        </div>
        {withRole ? (
          <div className="field">
            <label htmlFor={`${id}-role`} className="field-label">
              Acts as
            </label>
            <select
              id={`${id}-role`}
              className="input"
              value={role}
              onChange={(e) => setRole(e.target.value as TokenRole)}
            >
              {TOKEN_ROLES.map(([value, label]) => (
                <option key={value} value={value}>
                  {label}
                </option>
              ))}
            </select>
          </div>
        ) : null}
      </div>
      <fieldset className="token-scopes">
        <legend className="field-label">Scopes</legend>
        {TOKEN_SCOPES.map((scope) => (
          <label key={scope} className="field-check-row">
            <input
              type="checkbox"
              className="checkbox"
              checked={scopes.includes(scope)}
              onChange={(e) => toggle(scope, e.target.checked)}
            />
            <span>
              <span className="mono">{scope}</span> <span className="muted">— {SCOPE_MEANING[scope]}</span>
            </span>
          </label>
        ))}
        {errors.fields.scopes ? (
          <p className="field-error" role="alert">
            {errors.fields.scopes}
          </p>
        ) : null}
      </fieldset>
      {errors.form ? (
        <p className="form-error" role="alert">
          {errors.form}
        </p>
      ) : null}
      <button type="submit" className="button button-primary" disabled={pending || scopes.length === 0}>
        {pending ? "Creating…" : "Create token"}
      </button>
    </form>
  );
}
