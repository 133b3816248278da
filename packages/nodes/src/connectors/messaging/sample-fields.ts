import type { DataRecord } from "@sluice/pipeline/record-schema";
import type { DiscoveredField } from "../../connection-runtime";

// The fields that sampled messages show, for discovery: every key seen, typed by the JSON values it held (NULL or
// missing in some sample makes it nullable; values of several kinds make it json). Server-only.

function kindOf(v: unknown): string | undefined {
  if (v === null || v === undefined) return undefined;
  if (typeof v === "string") return "string";
  if (typeof v === "boolean") return "boolean";
  if (typeof v === "number") return Number.isInteger(v) ? "int" : "float";
  return "json";
}

export function sampleFields(records: readonly DataRecord[]): DiscoveredField[] {
  const seen = new Map<string, { kinds: Set<string>; count: number }>();
  for (const r of records) {
    for (const [name, v] of Object.entries(r)) {
      let s = seen.get(name);
      if (!s) {
        s = { kinds: new Set(), count: 0 };
        seen.set(name, s);
      }
      const k = kindOf(v);
      if (k !== undefined) {
        s.kinds.add(k);
        s.count++;
      }
    }
  }
  return [...seen].map(([name, s]) => {
    const kinds = [...s.kinds];
    const type =
      kinds.length === 1
        ? kinds[0]!
        : kinds.length === 2 && s.kinds.has("int") && s.kinds.has("float")
          ? "float"
          : "json";
    return { name, type: kinds.length === 0 ? "json" : type, nullable: s.count < records.length };
  });
}

/** A sampled payload as a record: a JSON object as it is, anything else as `{ payload: text }`. */
export function sampleRecord(text: string): DataRecord {
  try {
    const v: unknown = JSON.parse(text);
    if (v !== null && typeof v === "object" && !Array.isArray(v)) return v as DataRecord;
  } catch {
    // not JSON: shown as text
  }
  return { payload: text };
}
