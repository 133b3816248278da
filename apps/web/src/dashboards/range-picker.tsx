"use client";

import type { TimeRange } from "@sluice/api/dashboards/dashboard-router.types";
import { useId, useState } from "react";
import { formatAbsolute } from "@/lib/format";
import { fromLocalInput, PRESETS, REFRESH_CHOICES, resolveRange, toLocalInput } from "./time-range";

// The dashboard's shared controls: its time range (a preset ending now, or two instants) and its refresh period.

const CUSTOM = "custom";

export function RangePicker({ value, onChange }: { value: TimeRange; onChange: (range: TimeRange) => void }) {
  const ids = { range: useId(), from: useId(), to: useId() };
  const [custom, setCustom] = useState(value.kind === "absolute");
  const start = resolveRange(value, Date.now());
  const [from, setFrom] = useState(() => toLocalInput(start.from));
  const [to, setTo] = useState(() => toLocalInput(start.to));
  const fromIso = fromLocalInput(from);
  const toIso = fromLocalInput(to);
  const problem =
    !fromIso || !toIso ? "give both ends" : Date.parse(fromIso) >= Date.parse(toIso) ? "`from` is after `to`" : null;
  return (
    <div className="dashboard-range">
      <div className="query-field">
        <label htmlFor={ids.range}>Time range</label>
        <select
          id={ids.range}
          className="input input-small"
          value={custom ? CUSTOM : value.kind === "relative" ? value.last : CUSTOM}
          onChange={(e) => {
            if (e.target.value === CUSTOM) return setCustom(true);
            setCustom(false);
            const preset = PRESETS.find((p) => p.last === e.target.value);
            if (preset) onChange({ kind: "relative", last: preset.last });
          }}
        >
          {PRESETS.map((p) => (
            <option key={p.last} value={p.last}>
              {p.label}
            </option>
          ))}
          <option value={CUSTOM}>
            {value.kind === "absolute"
              ? `${formatAbsolute(Date.parse(value.from))} – ${formatAbsolute(Date.parse(value.to))}`
              : "Between two times…"}
          </option>
        </select>
      </div>
      {custom ? (
        <form
          className="dashboard-range-custom"
          onSubmit={(e) => {
            e.preventDefault();
            if (fromIso && toIso && !problem) onChange({ kind: "absolute", from: fromIso, to: toIso });
          }}
        >
          <div className="query-field">
            <label htmlFor={ids.from}>From</label>
            <input
              id={ids.from}
              type="datetime-local"
              className="input input-small"
              value={from}
              onChange={(e) => setFrom(e.target.value)}
            />
          </div>
          <div className="query-field">
            <label htmlFor={ids.to}>To</label>
            <input
              id={ids.to}
              type="datetime-local"
              className="input input-small"
              value={to}
              onChange={(e) => setTo(e.target.value)}
            />
          </div>
          <button
            type="submit"
            className="button button-small"
            disabled={problem !== null}
            title={problem ?? undefined}
          >
            Apply
          </button>
        </form>
      ) : null}
    </div>
  );
}

export function RefreshPicker({ value, onChange }: { value: number; onChange: (seconds: number) => void }) {
  const id = useId();
  return (
    <div className="query-field">
      <label htmlFor={id}>Auto-refresh</label>
      <select id={id} className="input input-small" value={value} onChange={(e) => onChange(Number(e.target.value))}>
        {REFRESH_CHOICES.map((c) => (
          <option key={c.seconds} value={c.seconds}>
            {c.label}
          </option>
        ))}
      </select>
    </div>
  );
}
