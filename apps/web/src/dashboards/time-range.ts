import type { RelativeRange, TimeRange } from "@sluice/api/dashboards/dashboard-router.types";

// A dashboard's time range: the one saved with it, or the one its address names for a link (`?last=1h`, or
// `?from=…&to=…` as ISO instants), resolved to the instants every tile's query takes as `{{from}}` and `{{to}}`. A
// relative range ends now at every refresh; an absolute one stays where it is.

export const PRESETS: readonly { last: RelativeRange; label: string; ms: number }[] = [
  { last: "15m", label: "Last 15 minutes", ms: 15 * 60_000 },
  { last: "1h", label: "Last hour", ms: 3_600_000 },
  { last: "6h", label: "Last 6 hours", ms: 6 * 3_600_000 },
  { last: "24h", label: "Last 24 hours", ms: 24 * 3_600_000 },
  { last: "7d", label: "Last 7 days", ms: 7 * 24 * 3_600_000 },
];

/** Refresh periods offered, with their labels; 0 is off. */
export const REFRESH_CHOICES: readonly { seconds: number; label: string }[] = [
  { seconds: 0, label: "Off" },
  { seconds: 10, label: "Every 10 s" },
  { seconds: 30, label: "Every 30 s" },
  { seconds: 60, label: "Every minute" },
  { seconds: 300, label: "Every 5 minutes" },
];

export interface ResolvedRange {
  from: string;
  to: string;
}

/** The instants a range stands for at `nowMs`. */
export function resolveRange(range: TimeRange, nowMs: number): ResolvedRange {
  if (range.kind === "absolute") return { from: range.from, to: range.to };
  const preset = PRESETS.find((p) => p.last === range.last) ?? PRESETS[1]!;
  return { from: new Date(nowMs - preset.ms).toISOString(), to: new Date(nowMs).toISOString() };
}

type SearchParams = Record<string, string | string[] | undefined> | URLSearchParams;

function param(params: SearchParams, key: string): string | undefined {
  if (params instanceof URLSearchParams) return params.get(key) ?? undefined;
  const v = params[key];
  return (Array.isArray(v) ? v[0] : v)?.trim() || undefined;
}

/** The range an address overrides the saved one with; null when it names none, or none that can be read. */
export function rangeFromUrl(params: SearchParams): TimeRange | null {
  const last = param(params, "last");
  const preset = PRESETS.find((p) => p.last === last);
  if (preset) return { kind: "relative", last: preset.last };
  const from = param(params, "from");
  const to = param(params, "to");
  if (!from || !to) return null;
  const fromMs = Date.parse(from);
  const toMs = Date.parse(to);
  if (Number.isNaN(fromMs) || Number.isNaN(toMs) || fromMs >= toMs) return null;
  return { kind: "absolute", from: new Date(fromMs).toISOString(), to: new Date(toMs).toISOString() };
}

/** The address's search part for a range, to link to the dashboard as it is shown. */
export function rangeSearch(range: TimeRange): string {
  const params =
    range.kind === "relative"
      ? new URLSearchParams({ last: range.last })
      : new URLSearchParams({ from: range.from, to: range.to });
  return `?${params.toString()}`;
}

/** "2026-12-07T10:00" in local time, as <input type="datetime-local"> takes it. */
export function toLocalInput(iso: string): string {
  const d = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** An <input type="datetime-local"> value (local time) as an ISO instant; null when empty or not a time. */
export function fromLocalInput(value: string): string | null {
  if (!value) return null;
  const ms = new Date(value).getTime();
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
}
