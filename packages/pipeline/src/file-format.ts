import { parseDocument, stringify } from "yaml";

// Reading and writing pipeline files. YAML is the house format (JSON is YAML too, but JSON gets JSON's own
// parser for exact error positions). Parsing only turns text into a value; validate() judges the value.

export type FileFormat = "yaml" | "json";

export interface FileParseError {
  message: string;
  line?: number;
  column?: number;
}

export type FileParseResult = { ok: true; value: unknown } | { ok: false; error: FileParseError };

/** Largest pipeline file we read: far above any real pipeline, far below what would hurt the process. */
export const MAX_FILE_BYTES = 16 * 1024 * 1024;

export function formatFromName(name: string): FileFormat {
  return /\.json$/i.test(name) ? "json" : "yaml";
}

function jsonErrorPosition(text: string, message: string): { line?: number; column?: number } {
  const at = /position (\d+)/.exec(message);
  if (!at) return {};
  const offset = Number(at[1]);
  const before = text.slice(0, offset).split("\n");
  return { line: before.length, column: (before.at(-1)?.length ?? 0) + 1 };
}

export function parsePipelineText(text: string, format: FileFormat): FileParseResult {
  if (text.length > MAX_FILE_BYTES) {
    return { ok: false, error: { message: `the file is larger than ${MAX_FILE_BYTES / 1024 / 1024} MiB` } };
  }
  if (format === "json") {
    try {
      return { ok: true, value: JSON.parse(text) };
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      return { ok: false, error: { message: `not valid JSON: ${message}`, ...jsonErrorPosition(text, message) } };
    }
  }
  // Aliases can expand exponentially ("billion laughs"); pipeline files never need many.
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  const first = doc.errors[0];
  if (first) {
    const pos = first.linePos?.[0];
    return {
      ok: false,
      error: {
        message: `not valid YAML: ${(first.message.split("\n")[0] ?? "").replace(/ at line \d+, column \d+:?$/, "")}`,
        ...(pos ? { line: pos.line, column: pos.col } : {}),
      },
    };
  }
  try {
    return { ok: true, value: doc.toJS({ maxAliasCount: 100 }) };
  } catch (err) {
    return { ok: false, error: { message: `not valid YAML: ${err instanceof Error ? err.message : String(err)}` } };
  }
}

export function writePipelineText(value: unknown, format: FileFormat): string {
  return format === "json"
    ? `${JSON.stringify(value, null, 2)}\n`
    : stringify(value, { lineWidth: 0, aliasDuplicateObjects: false });
}
