// The rows of a map field (name → value) while the user edits them. A row's name may be unfinished (empty, or the
// same as another row's), so rows are kept apart from the committed object: a row whose name is fine is committed
// under it; a row whose name is not keeps its last committed name, so nothing that was accepted disappears while
// the user types. New rows without a name wait until they get one.

export interface RecordRow {
  /** Stable identity for React keys and focus. */
  id: number;
  key: string;
  value: unknown;
  /** The name the row's value is stored under right now, or null when it is not stored yet. */
  accepted: string | null;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Rows for a stored object. Rows of `previous` whose names survive keep their ids (so focus and local state stay
 * put when the object changes elsewhere); `nextId` numbers the others.
 */
export function rowsFromRecord(value: unknown, nextId: () => number, previous: readonly RecordRow[] = []): RecordRow[] {
  if (!isRecord(value)) return [];
  const byKey = new Map(previous.map((r) => [r.accepted ?? r.key, r.id]));
  return Object.entries(value).map(([key, v]) => ({ id: byKey.get(key) ?? nextId(), key, value: v, accepted: key }));
}

/**
 * What is wrong with each row's name, or null. Empty names and names two rows share are wrong; so is a name
 * another (wrong) row is still stored under, since taking it would drop that row's value.
 */
export function rowProblems(rows: readonly RecordRow[], noun: string): (string | null)[] {
  const counts = new Map<string, number>();
  for (const r of rows) counts.set(r.key, (counts.get(r.key) ?? 0) + 1);
  const problems: (string | null)[] = rows.map((r) => {
    if (r.key.trim() === "") return `Give this ${noun} a name.`;
    if ((counts.get(r.key) ?? 0) > 1) return `Another ${noun} is also called “${r.key}”: names must differ.`;
    return null;
  });
  // A wrong row holds its stored name; a fine row asking for that name must wait. Repeat until nothing changes.
  for (let changed = true; changed; ) {
    changed = false;
    const held = new Map<string, number>();
    rows.forEach((r, i) => {
      if (problems[i] !== null && r.accepted !== null && r.accepted !== r.key) held.set(r.accepted, i);
    });
    rows.forEach((r, i) => {
      const holder = held.get(r.key);
      if (problems[i] === null && holder !== undefined && holder !== i) {
        problems[i] = `“${r.key}” is still the name of ${noun} ${holder + 1} until that one gets a valid name.`;
        changed = true;
      }
    });
  }
  return problems;
}

/** The object to store for `rows`, and the rows with their stored names updated. */
export function commitRows(
  rows: readonly RecordRow[],
  problems: readonly (string | null)[],
): { value: Record<string, unknown>; rows: RecordRow[] } {
  const value: Record<string, unknown> = {};
  const next = rows.map((r, i) => {
    const name = problems[i] === null ? r.key : r.accepted;
    if (name === null || Object.hasOwn(value, name)) return r.accepted === null ? r : { ...r, accepted: null };
    // defineProperty: a row may well be called "__proto__".
    Object.defineProperty(value, name, { value: r.value, enumerable: true, writable: true, configurable: true });
    return r.accepted === name ? r : { ...r, accepted: name };
  });
  return { value, rows: next };
}
