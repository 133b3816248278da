import { readFile } from "node:fs/promises";
import {
  type FileFormat,
  type FileParseError,
  formatFromName,
  MAX_FILE_BYTES,
  parsePipelineText,
} from "@sluice/pipeline/file-format";
import { splitFileVersion } from "@sluice/pipeline/pipeline-file";

export class UsageError extends Error {
  override name = "UsageError";
}

/** A failure that ends the command with `exit` and a one-line message naming what is wrong. */
export class CommandError extends Error {
  override name = "CommandError";
  constructor(
    message: string,
    readonly exit: number,
  ) {
    super(message);
  }
}

/**
 * Exit codes shared by every command: 0 fine, 1 the input is wrong (or the server refused it), 2 it could not be read,
 * the call is wrong or the server cannot be reached; 3 the server's pipeline moved since the file's base version
 * (apply, plan); 4 the plan has changes (plan --detailed-exitcode).
 */
export const EXIT = { ok: 0, invalid: 1, unreadable: 2, conflict: 3, changes: 4 } as const;

export interface Output {
  out(text: string): void;
  err(text: string): void;
}

export const stdio: Output = {
  out: (t) => process.stdout.write(t.endsWith("\n") ? t : `${t}\n`),
  err: (t) => process.stderr.write(t.endsWith("\n") ? t : `${t}\n`),
};

/** A file's value, and its `metadata.version` (pipeline-file.ts), which is not part of the definition. */
export type ReadResult = { ok: true; value: unknown; baseVersion: number | undefined } | { ok: false; message: string };

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
  if (!parsed.ok) return { ok: false, message: describeParseError(file, parsed.error) };
  const split = splitFileVersion(parsed.value);
  return split.ok ? split : { ok: false, message: `${file}: ${split.message}` };
}
