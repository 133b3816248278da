// Icons for the editor's own controls (lucide-style strokes, 24×24), decorative: every control has a text name.

const PATHS = {
  undo: ["M9 14 4 9l5-5", "M4 9h10.5a5.5 5.5 0 0 1 0 11H11"],
  redo: ["m15 14 5-5-5-5", "M20 9H9.5a5.5 5.5 0 0 0 0 11H13"],
  arrange: ["M3 5h4v4H3z", "M17 3h4v4h-4z", "M17 15h4v4h-4z", "M7 7h4v10h6", "M11 5h6"],
  note: ["M15.5 3H5a2 2 0 0 0-2 2v14c0 1.1.9 2 2 2h14a2 2 0 0 0 2-2V8.5L15.5 3Z", "M15 3v6h6"],
  copy: ["M8 8h12v12H8z", "M4 16V4h12"],
  paste: ["M9 4h6v3H9z", "M15 5h3a1 1 0 0 1 1 1v14a1 1 0 0 1-1 1H6a1 1 0 0 1-1-1V6a1 1 0 0 1 1-1h3"],
  trash: ["M3 6h18", "M8 6V4h8v2", "M19 6l-1 14H6L5 6", "M10 11v6", "M14 11v6"],
  select: ["M4 4h3", "M10 4h4", "M17 4h3v3", "M20 10v4", "M20 17v3h-3", "M14 20h-4", "M7 20H4v-3", "M4 14v-4"],
  keyboard: ["M3 6h18v12H3z", "M7 10h.01", "M11 10h.01", "M15 10h.01", "M7 14h10"],
  fit: ["M3 8V3h5", "M16 3h5v5", "M21 16v5h-5", "M8 21H3v-5"],
  plus: ["M12 5v14", "M5 12h14"],
  minus: ["M5 12h14"],
  up: ["m6 15 6-6 6 6"],
  down: ["m6 9 6 6 6-6"],
  close: ["M18 6 6 18", "M6 6l12 12"],
  plug: ["M9 2v6", "M15 2v6", "M6 8h12v4a6 6 0 0 1-12 0Z", "M12 18v4"],
} as const;

export type UiIconName = keyof typeof PATHS;

export function UiIcon({ name, size = 16 }: { name: UiIconName; size?: number }) {
  return (
    <svg
      viewBox="0 0 24 24"
      width={size}
      height={size}
      fill="none"
      stroke="currentColor"
      strokeWidth={2}
      strokeLinecap="round"
      strokeLinejoin="round"
      aria-hidden="true"
      focusable="false"
    >
      {PATHS[name].map((d) => (
        <path key={d} d={d} />
      ))}
    </svg>
  );
}
