import { readFile } from "node:fs/promises";
import {
  type FileFormat,
  type FileParseError,
  formatFromName,
  MAX_FILE_BYTES,
  parsePipelineText,
} from "@sluice/pipeline/file-format";

export class UsageError extends Error {
  override name = "UsageError";
}

/** Exit codes shared by every command: 0 fine, 1 the input is wrong, 2 it could not be read or the call is wrong. */
export const EXIT = { ok: 0, invalid: 1, unreadable: 2 } as const;

export interface Output {
  out(text: string): void;
  err(text: string): void;
}

export const stdio: Output = {
  out: (t) => process.stdout.write(t.endsWith("\n") ? t : `${t}\n`),
  err: (t) => process.stderr.write(t.endsWith("\n") ? t : `${t}\n`),
};

export type ReadResult = { ok: true; value: unknown } | { ok: false; message: string };

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin) {
    size += (chunk as Buffer).length;
    if (size > MAX_FILE_BYTES) throw new Error(`standard input is larger than ${MAX_FILE_BYTES / 1024 / 1024} MiB`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function describeParseError(file: string, e: FileParseError): string {
  return `${file}${e.line !== undefined ? `:${e.line}:${e.column ?? 1}` : ""}: ${e.message}`;
}

/**
 * Standard input has no file name to go by. JSON gets JSON's parser (exact error positions), but a YAML flow
 * mapping starts with "{" too, so text that is not valid JSON is read as YAML.
 */
function stdinFormat(text: string): FileFormat {
  if (!text.trimStart().startsWith("{")) return "yaml";
  return parsePipelineText(text, "json").ok ? "json" : "yaml";
}

/** Reads a pipeline file (`-` for standard input) into a value, or a one-line reason it could not. */
export async function readPipelineFile(file: string): Promise<ReadResult> {
  let text: string;
  try {
    text = file === "-" ? await readStdin() : await readFile(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason = code === "ENOENT" ? "no such file" : code === "EISDIR" ? "is a directory" : (err as Error).message;
    return { ok: false, message: `${file}: ${reason}` };
  }
  const parsed = parsePipelineText(text, file === "-" ? stdinFormat(text) : formatFromName(file));
  return parsed.ok ? { ok: true, value: parsed.value } : { ok: false, message: describeParseError(file, parsed.error) };
}
