"use client";

import { type ParameterType, parseInstant } from "@sluice/api/queries/query-parameters";
import { useId } from "react";

// The inputs of a query's `{{name}}` parameters, shown while its SQL names any: a time range picker for `from` and
// `to` (presets, or two custom instants), and a typed input for each other parameter. Values are kept as typed
// ("now-1h" for a relative time); the server resolves and binds them.

const RANGE_PRESETS = [
  { label: "Last 15 minutes", from: "now-15m" },
  { label: "Last hour", from: "now-1h" },
  { label: "Last 6 hours", from: "now-6h" },
  { label: "Last 24 hours", from: "now-24h" },
  { label: "Last 7 days", from: "now-7d" },
] as const;

/** The type a parameter gets unless chosen: `from` and `to` are the time range. */
export function defaultType(name: string): ParameterType {
  return name === "from" || name === "to" ? "timestamp" : "text";
}

/** A `datetime-local` input's value (local wall time) for an instant, or "" for none. */
function localInput(value: string | undefined): string {
  const date = value ? parseInstant(value) : undefined;
  if (!date) return "";
  const shifted = new Date(date.getTime() - date.getTimezoneOffset() * 60_000);
  return shifted.toISOString().slice(0, 16);
}

/** The instant a `datetime-local` value (local wall time) names, as ISO in UTC. */
function fromLocalInput(value: string): string {
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? "" : date.toISOString();
}

export function ParameterBar({
  names,
  types,
  values,
  onType,
  onValue,
}: {
  /** The parameters the SQL names, in order. */
  names: readonly string[];
  types: Readonly<Record<string, ParameterType>>;
  values: Readonly<Record<string, string>>;
  onType(name: string, type: ParameterType): void;
  onValue(name: string, value: string): void;
}) {
  const baseId = useId();
  if (names.length === 0) return null;
  const hasRange = names.includes("from") && names.includes("to");
  const rangeTyped =
    hasRange && (types.from ?? "timestamp") === "timestamp" && (types.to ?? "timestamp") === "timestamp";
  const preset = RANGE_PRESETS.find((p) => values.from === p.from && (values.to ?? "now") === "now");
  const others = rangeTyped ? names.filter((n) => n !== "from" && n !== "to") : names;

  return (
    <fieldset className="query-parameters">
      <legend className="visually-hidden">Parameters</legend>
      {rangeTyped ? (
        <div className="query-field query-range">
          <label htmlFor={`${baseId}-range`}>Time range</label>
          <select
            id={`${baseId}-range`}
            className="input input-small"
            value={preset?.from ?? "custom"}
            onChange={(e) => {
              if (e.target.value === "custom") {
                // Custom starts from the range shown, as fixed instants.
                onValue("from", parseInstant(values.from ?? "now-1h")?.toISOString() ?? "");
                onValue("to", parseInstant(values.to ?? "now")?.toISOString() ?? "");
              } else {
                onValue("from", e.target.value);
                onValue("to", "now");
              }
            }}
          >
            {RANGE_PRESETS.map((p) => (
              <option key={p.from} value={p.from}>
                {p.label}
              </option>
            ))}
            <option value="custom">Custom…</option>
          </select>
          {!preset ? (
            <>
              <input
                type="datetime-local"
                className="input input-small"
                aria-label="From"
                value={localInput(values.from)}
                onChange={(e) => onValue("from", fromLocalInput(e.target.value))}
              />
              <span aria-hidden="true">–</span>
              <input
                type="datetime-local"
                className="input input-small"
                aria-label="To"
                value={localInput(values.to)}
                onChange={(e) => onValue("to", fromLocalInput(e.target.value))}
              />
            </>
          ) : null}
        </div>
      ) : null}
      {others.map((name) => {
        const type = types[name] ?? defaultType(name);
        const id = `${baseId}-${name}`;
        return (
          <div key={name} className="query-field query-parameter">
            <label htmlFor={id}>{name}</label>
            <select
              className="input input-small"
              aria-label={`Type of ${name}`}
              value={type}
              onChange={(e) => onType(name, e.target.value as ParameterType)}
            >
              <option value="text">text</option>
              <option value="number">number</option>
              <option value="timestamp">time</option>
            </select>
            <input
              id={id}
              className="input input-small"
              type={type === "number" ? "number" : "text"}
              placeholder={type === "timestamp" ? "now-1h or 2026-01-01T00:00:00Z" : ""}
              value={values[name] ?? ""}
              onChange={(e) => onValue(name, e.target.value)}
            />
          </div>
        );
      })}
    </fieldset>
  );
}
