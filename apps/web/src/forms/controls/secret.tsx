"use client";

import type { LeafControlProps } from "../scope";

// A write-only secret (`secret: true`): the stored value never comes back to the browser, so the field shows
// whether one is stored and takes a replacement. Its value in the form: undefined keeps what is stored, a string
// replaces it, null removes it.

function SecretState({ stored, removing }: { stored: boolean; removing: boolean }) {
  if (removing) return <span className="secret-state secret-clear">will be removed</span>;
  return stored ? (
    <span className="secret-state secret-set">set</span>
  ) : (
    <span className="secret-state secret-unset">not set</span>
  );
}

/** The badge beside a secret field's label. */
export function SecretBadge({ stored, value }: { stored: boolean; value: unknown }) {
  return <SecretState stored={stored} removing={value === null} />;
}

export function SecretControl({
  spec,
  id,
  value,
  describedBy,
  invalid,
  onChange,
  stored,
}: LeafControlProps & { stored: boolean }) {
  const removing = value === null;
  return (
    <>
      <input
        id={id}
        type="password"
        className="input"
        value={typeof value === "string" ? value : ""}
        autoComplete="new-password"
        placeholder={stored ? "Leave empty to keep the stored value" : spec.control.placeholder}
        disabled={removing}
        aria-describedby={describedBy}
        aria-invalid={invalid ? true : undefined}
        onChange={(e) => onChange(e.target.value === "" ? undefined : e.target.value)}
      />
      {stored ? (
        <label className="secret-clear-toggle">
          <input
            type="checkbox"
            className="checkbox"
            checked={removing}
            onChange={(e) => onChange(e.target.checked ? null : undefined)}
          />
          Remove the stored {spec.control.label.toLowerCase()}
        </label>
      ) : null}
    </>
  );
}
