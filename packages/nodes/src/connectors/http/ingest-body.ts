import { jsonErrorOffset } from "../../transforms/parse-text";
import { BodyTooLargeError, readBodyLimited } from "./limited-body";

// Reading and checking a webhook body: at most `limit` bytes, one JSON object, a JSON array of objects, or JSON
// Lines. Every record is checked before any is kept, so a bad one rejects the whole request with its position.

export class IngestBodyError extends Error {
  override name = "IngestBodyError";
  constructor(
    readonly status: 400 | 413 | 415,
    message: string,
  ) {
    super(message);
  }
}

const NDJSON_TYPES = new Set([
  "application/x-ndjson",
  "application/ndjson",
  "application/jsonl",
  "application/x-jsonlines",
  "application/json-lines",
  "application/jsonlines",
]);

export type BodyFormat = "json" | "ndjson";

export function bodyFormat(contentType: string | null): BodyFormat {
  const type = (contentType ?? "").split(";")[0]!.trim().toLowerCase();
  if (type === "application/json") return "json";
  if (NDJSON_TYPES.has(type)) return "ndjson";
  throw new IngestBodyError(
    415,
    `Content-Type "${type || "(none)"}" is not accepted: send application/json (an object or an array of objects) or application/x-ndjson (one object per line)`,
  );
}

/** The body as text, refused with 413 as soon as it passes `limit` bytes (whatever Content-Length claims). */
export async function readLimited(req: Request, limit: number): Promise<string> {
  try {
    return new TextDecoder().decode(await readBodyLimited(req, limit));
  } catch (err) {
    if (err instanceof BodyTooLargeError) throw tooLarge(limit);
    throw err;
  }
}

function tooLarge(limit: number): IngestBodyError {
  return new IngestBodyError(413, `the body is larger than ${limit} bytes; send the records in smaller requests`);
}

/**
 * Deepest nesting a record may have. Records are walked recursively downstream (serialised, checked, evaluated): a
 * body of a few kilobytes of `[[[[…` would overflow the stack there, so it is refused here, before it is kept.
 */
export const MAX_RECORD_DEPTH = 64;

/** Whether `value` nests deeper than `max` levels; iterative, so any depth is measured without recursion. */
function nestedDeeperThan(value: unknown, max: number): boolean {
  const stack: { value: unknown; depth: number }[] = [{ value, depth: 0 }];
  while (stack.length > 0) {
    const item = stack.pop()!;
    if (item.value === null || typeof item.value !== "object") continue;
    if (item.depth >= max) return true;
    for (const child of Object.values(item.value)) stack.push({ value: child, depth: item.depth + 1 });
  }
  return false;
}

function tooDeep(where: string): IngestBodyError {
  return new IngestBodyError(
    400,
    `${where}nested more than ${MAX_RECORD_DEPTH} levels deep; send records with fewer levels of objects and arrays`,
  );
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "string" ? "a string" : `a ${typeof value}`;
}

function jsonProblem(text: string, err: unknown): string {
  const at = jsonErrorOffset(text);
  let line = 1;
  let column = 1;
  for (let i = 0; i < at && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      column = 1;
    } else column++;
  }
  const reason = err instanceof Error ? err.message.replace(/ in JSON at position \d+.*$/s, "") : String(err);
  return `invalid JSON at line ${line} column ${column}: ${reason}`;
}

/**
 * The records of a body, each as one line of JSON (what the ingest stream stores). JSON Lines keeps each valid
 * line's text as sent; blank lines are skipped.
 */
export function bodyRecords(text: string, format: BodyFormat): string[] {
  if (format === "ndjson") {
    const out: string[] = [];
    let start = 0;
    let line = 0;
    while (start <= text.length) {
      let end = text.indexOf("\n", start);
      if (end < 0) end = text.length;
      line++;
      const raw = text.slice(start, end);
      start = end + 1;
      const trimmed = raw.trim();
      if (trimmed === "") continue;
      let value: unknown;
      try {
        value = JSON.parse(trimmed);
      } catch (err) {
        throw new IngestBodyError(400, `line ${line}: ${jsonProblem(trimmed, err).replace(/ at line 1 /, " at ")}`);
      }
      if (value === null || typeof value !== "object" || Array.isArray(value)) {
        throw new IngestBodyError(400, `line ${line}: expected a JSON object, found ${describe(value)}`);
      }
      if (nestedDeeperThan(value, MAX_RECORD_DEPTH)) throw tooDeep(`line ${line}: the record is `);
      out.push(trimmed);
    }
    if (out.length === 0) throw new IngestBodyError(400, "the body holds no records");
    return out;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new IngestBodyError(400, text.trim() === "" ? "the body is empty" : jsonProblem(text, err));
  }
  const items = Array.isArray(value) ? value : [value];
  if (items.length === 0) throw new IngestBodyError(400, "the array holds no records");
  // One level more for the array around the records, as in the ndjson form's lines.
  if (nestedDeeperThan(value, MAX_RECORD_DEPTH + (Array.isArray(value) ? 1 : 0))) throw tooDeep("the body is ");
  return items.map((item, i) => {
    if (item === null || typeof item !== "object" || Array.isArray(item)) {
      throw new IngestBodyError(
        400,
        Array.isArray(value)
          ? `item ${i + 1}: expected a JSON object, found ${describe(item)}`
          : `expected a JSON object or an array of objects, found ${describe(item)}`,
      );
    }
    return JSON.stringify(item);
  });
}
