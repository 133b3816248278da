import { realpath } from "node:fs/promises";
import path from "node:path";
import type { RuntimeContext, RuntimeServices } from "../../runtime-contract";
import { NodeConfigError } from "../../runtime-expressions";

// The one directory file sources and sinks may touch (SLUICE_FILES_DIR, default `.sluice/files` under the worker's
// working directory). Paths in configs are relative to it; anything that resolves outside it — `..`, an absolute
// path elsewhere, a symbolic link pointing out — is refused. Server-only.

export const FILES_DIR_ENV = "SLUICE_FILES_DIR";
export const DEFAULT_FILES_DIR = ".sluice/files";

/**
 * Proposed `RuntimeServices.files`: the worker reads SLUICE_FILES_DIR in its env.ts and hands the directory to the
 * engine. Until it does, the runtime falls back to the variable itself (the one read of process.env here).
 */
export interface FilesService {
  root: string;
}

export function filesRoot(ctx: Pick<RuntimeContext<unknown>, "services">): string {
  const service = (ctx.services as RuntimeServices & { files?: FilesService }).files;
  const configured = service?.root ?? process.env[FILES_DIR_ENV] ?? DEFAULT_FILES_DIR;
  return path.resolve(configured);
}

export class FilePathError extends Error {
  override name = "FilePathError";
}

/** `candidate` is `root` or inside it (both absolute and normalised). */
export function isInside(root: string, candidate: string): boolean {
  const rel = path.relative(root, candidate);
  return rel === "" || (!rel.startsWith("..") && !path.isAbsolute(rel));
}

/** A config path resolved against the root; refused when it leaves it. */
export function resolveInRoot(root: string, configured: string): string {
  const resolved = path.resolve(root, configured);
  if (!isInside(root, resolved)) {
    throw new FilePathError(
      `"${configured}" is outside the files directory ${root} (${FILES_DIR_ENV}); use a path inside it, e.g. "uploads/orders.csv"`,
    );
  }
  return resolved;
}

/** The real location of an existing path, refused when a symbolic link leads out of the root. */
export async function realInRoot(root: string, resolved: string): Promise<string> {
  const [realRoot, real] = await Promise.all([realpath(root).catch(() => root), realpath(resolved)]);
  if (!isInside(realRoot, real)) {
    throw new FilePathError(`"${path.relative(root, resolved)}" leads outside the files directory ${root}`);
  }
  return real;
}

/** FilePathError as the error that fails the run, naming the node's field. */
export function pathConfigError(ctx: RuntimeContext<unknown>, field: string, err: unknown): never {
  if (err instanceof FilePathError) throw new NodeConfigError(ctx.nodeId, field, err.message);
  throw err;
}
