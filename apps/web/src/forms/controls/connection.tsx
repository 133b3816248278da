"use client";

import type { LeafControlProps } from "../scope";

/**
 * A connection field (`widget: "connection"`): the workspace's connections of the right type (name → type), or
 * a name typed in while they load.
 */
export function ConnectionControl({
  spec,
  id,
  value,
  describedBy,
  invalid,
  onChange,
  connections,
}: LeafControlProps & { connections: Readonly<Record<string, string>> | null }) {
  const c = spec.control;
  const text = typeof value === "string" ? value : "";
  const commit = (next: string) => onChange(next === "" && !spec.required ? undefined : next);
  const aria = { "aria-describedby": describedBy, "aria-invalid": invalid ? true : undefined };
  if (!connections) {
    return (
      <input
        id={id}
        type="text"
        className="input"
        value={text}
        autoComplete="off"
        spellCheck={false}
        onChange={(e) => commit(e.target.value)}
        {...aria}
      />
    );
  }
  const wanted = c.kind === "connection" ? c.connectionType : undefined;
  const names = Object.entries(connections)
    .filter(([, type]) => wanted === undefined || type === wanted)
    .map(([name]) => name)
    .sort();
  if (text !== "" && !names.includes(text)) names.unshift(text);
  return (
    <div className="connection-picker">
      <select id={id} className="input" value={text} onChange={(e) => commit(e.target.value)} {...aria}>
        <option value="">{names.length === 0 ? "No connections yet" : "Choose a connection…"}</option>
        {names.map((n) => (
          <option key={n} value={n}>
            {connections[n] === undefined ? `${n} (missing)` : n}
          </option>
        ))}
      </select>
      <a href="/connections" target="_blank" rel="noreferrer" className="field-hint">
        Manage connections
      </a>
    </div>
  );
}
