import { getIndex, getMember } from "./values";

// JSONPath subset for json_extract: `$`, `.name`, `['name']` / `["name"]`, and `[n]` (0-based, as in
// JSONPath; the expression language's own `array[n]` is 1-based like SQL). One value, no wildcards.

export type PathStep = { key: string } | { index: number };

export type ParsedPath = { ok: true; steps: PathStep[] } | { ok: false; message: string };

const MAX_PATH_LENGTH = 1000;

export function parseJsonPath(path: string): ParsedPath {
  if (path.length > MAX_PATH_LENGTH)
    return { ok: false, message: `JSON path is longer than ${MAX_PATH_LENGTH} characters` };
  if (!path.startsWith("$")) return { ok: false, message: `JSON path must start with $, as in '$.a.b[0]'` };
  const steps: PathStep[] = [];
  let i = 1;
  while (i < path.length) {
    const ch = path.charAt(i);
    if (ch === ".") {
      const m = /^[\p{L}_$][\p{L}\p{N}_$-]*/u.exec(path.slice(i + 1));
      if (!m) return { ok: false, message: `Expected a name after '.' at position ${i + 1} of the JSON path` };
      steps.push({ key: m[0] });
      i += 1 + m[0].length;
    } else if (ch === "[") {
      const rest = path.slice(i);
      const index = /^\[\s*(\d+)\s*\]/.exec(rest);
      const quoted = /^\[\s*(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)")\s*\]/.exec(rest);
      if (index) {
        steps.push({ index: Number(index[1]) });
        i += index[0].length;
      } else if (quoted) {
        steps.push({ key: (quoted[1] ?? quoted[2] ?? "").replace(/\\(.)/g, "$1") });
        i += quoted[0].length;
      } else {
        return { ok: false, message: `Expected [number] or ['name'] at position ${i + 1} of the JSON path` };
      }
    } else {
      return { ok: false, message: `Unexpected '${ch}' at position ${i + 1} of the JSON path` };
    }
  }
  return { ok: true, steps };
}

/** Follows the path through own properties and array elements; NULL where it leads nowhere. */
export function walkJsonPath(value: unknown, steps: readonly PathStep[]): unknown {
  let v = value;
  for (const step of steps) {
    if (v === null || v === undefined) return null;
    v = "key" in step ? getMember(v, step.key) : getIndex(v, step.index + 1);
  }
  return v === undefined ? null : v;
}
