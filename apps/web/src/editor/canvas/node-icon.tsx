import type { NodeKind } from "@sluice/pipeline/node-definition";

// A small icon set for node declarations' `icon` names (lucide-style strokes, 24×24). Unknown names fall back to a
// shape per kind, so a new node type never renders without an icon.

const PATHS: Record<string, string[]> = {
  sparkles: [
    "M9.9 2.6 11.4 7a2 2 0 0 0 1.3 1.3l4.4 1.5-4.4 1.5a2 2 0 0 0-1.3 1.3l-1.5 4.4-1.5-4.4A2 2 0 0 0 7.1 11.3L2.7 9.8l4.4-1.5A2 2 0 0 0 8.4 7Z",
    "M19 3v4",
    "M21 5h-4",
    "M18 16v4",
    "M20 18h-4",
  ],
  filter: ["M22 3H2l8 9.46V19l4 2v-8.54L22 3z"],
  terminal: ["m4 17 6-6-6-6", "M12 19h8"],
  database: [
    "M4 6c0-1.7 3.6-3 8-3s8 1.3 8 3-3.6 3-8 3-8-1.3-8-3Z",
    "M4 6v12c0 1.7 3.6 3 8 3s8-1.3 8-3V6",
    "M4 12c0 1.7 3.6 3 8 3s8-1.3 8-3",
  ],
  clock: ["M12 22a10 10 0 1 0 0-20 10 10 0 0 0 0 20Z", "M12 6v6l4 2"],
  "git-merge": ["M18 15a3 3 0 1 0 0 6 3 3 0 0 0 0-6Z", "M6 3a3 3 0 1 0 0 6 3 3 0 0 0 0-6Z", "M6 21V9a9 9 0 0 0 9 9"],
  table: ["M3 3h18v18H3z", "M3 9h18", "M3 15h18", "M12 3v18"],
  code: ["m16 18 6-6-6-6", "m8 6-6 6 6 6"],
  globe: ["M12 22a10 10 0 1 0 0-20 10 10 0 0 0 0 20Z", "M2 12h20", "M12 2a15 15 0 0 1 0 20 15 15 0 0 1 0-20Z"],
  send: ["m22 2-7 20-4-9-9-4Z", "M22 2 11 13"],
  inbox: [
    "M22 12h-6l-2 3h-4l-2-3H2",
    "M5.45 5.11 2 12v6a2 2 0 0 0 2 2h16a2 2 0 0 0 2-2v-6l-3.45-6.89A2 2 0 0 0 16.76 4H7.24a2 2 0 0 0-1.79 1.11z",
  ],
  layers: ["m12 2 10 5-10 5L2 7Z", "m2 17 10 5 10-5", "m2 12 10 5 10-5"],
  shuffle: [
    "M2 18h1.4c1.3 0 2.5-.6 3.3-1.7l6.1-8.6c.7-1.1 2-1.7 3.3-1.7H22",
    "m18 2 4 4-4 4",
    "M2 6h1.9c1.5 0 2.9.9 3.6 2.2",
    "M22 18h-5.9c-1.3 0-2.6-.7-3.3-1.8l-.5-.8",
    "m18 14 4 4-4 4",
  ],
  sigma: ["M18 7V4H6l6 8-6 8h12v-3"],
  webhook: [
    "M18 16.98h-5.99c-1.1 0-1.95.94-2.48 1.9A4 4 0 0 1 2 17c.01-.7.2-1.4.57-2",
    "m6 17 3.13-5.78c.53-.97.1-2.18-.5-3.1a4 4 0 1 1 6.89-4.06",
    "m12 6 3.13 5.73C15.66 12.7 16.9 13 18 13a4 4 0 0 1 0 8",
  ],
  key: [
    "M2.586 17.414A2 2 0 0 0 2 18.828V21a1 1 0 0 0 1 1h3a1 1 0 0 0 1-1v-1a1 1 0 0 1 1-1h1a1 1 0 0 0 1-1v-1a1 1 0 0 1 1-1h.172a2 2 0 0 0 1.414-.586l.814-.814a6.5 6.5 0 1 0-4-4z",
    "M16.5 7.5h.01",
  ],
};

const KIND_FALLBACK: Record<NodeKind, string[]> = {
  source: ["M12 22a10 10 0 1 0 0-20 10 10 0 0 0 0 20Z", "M10 8l4 4-4 4"],
  transform: ["M4 4h16v16H4z", "M9 12h6"],
  sink: ["M12 22a10 10 0 1 0 0-20 10 10 0 0 0 0 20Z", "M8 12h8"],
};

export function NodeIcon({
  name,
  kind,
  size = 18,
}: {
  name: string | undefined;
  kind: NodeKind | undefined;
  size?: number;
}) {
  const paths = (name && PATHS[name]) || KIND_FALLBACK[kind ?? "transform"];
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
      {paths.map((d) => (
        <path key={d} d={d} />
      ))}
    </svg>
  );
}
