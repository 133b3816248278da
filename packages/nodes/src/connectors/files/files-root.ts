import { mkdir, realpath, stat } from "node:fs/promises";
import path from "node:path";
import type { RuntimeContext } from "../../runtime-contract";

// The one directory file sources and sinks may touch. The files directory is SLUICE_FILES_DIR (default
// `.sluice/files` under the worker's working directory); a run or preview of a workspace sees only its own folder in
// it, `<files directory>/<workspaceId>`, made on first use, and `sluice run` (no workspace) the files directory
// itself. Paths in configs are relative to that folder; anything that resolves outside it — `..`, an absolute path
// elsewhere, a symbolic link pointing out, also into another workspace's folder — is refused. Server-only.

const FILES_DIR_ENV = "SLUICE_FILES_DIR";
const DEFAULT_FILES_DIR = ".sluice/files";

/** A workspace id that is one plain path segment (the API's ids are); anything else never names a folder. */
const WORKSPACE_SEGMENT = /^[A-Za-z0-9_-]{1,64}$/;

/** The files directory itself: the worker's setting, else (the CLI) SLUICE_FILES_DIR, else the default. */
function filesDirectory(ctx: Pick<RuntimeContext<unknown>, "services">): string {
  const configured = ctx.services.files?.root ?? process.env[FILES_DIR_ENV] ?? DEFAULT_FILES_DIR;
  return path.resolve(configured);
}

/**
 * The folder this run's file nodes may use: the workspace's own (created when missing), or the files directory for
 * a run without a workspace.
 */
export async function filesRoot(ctx: Pick<RuntimeContext<unknown>, "services">): Promise<string> {
  const directory = filesDirectory(ctx);
  const workspaceId = ctx.services.files?.workspaceId;
  if (workspaceId === undefined) return directory;
  if (!WORKSPACE_SEGMENT.test(workspaceId)) {
    // Only the API writes it; a value that is not an id must never widen what the run sees.
    throw new FilePathError("the run names no valid workspace, so it may not use the files directory");
  }
  const own = path.join(directory, workspaceId);
  await mkdir(own, { recursive: true });
  return own;
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
      `"${configured}" is outside the files directory; use a path inside it, e.g. "uploads/orders.csv"`,
    );
  }
  return resolved;
}

/** The real location of an existing path, refused when a symbolic link leads out of the root. */
export async function realInRoot(root: string, resolved: string): Promise<string> {
  const [realRoot, real] = await Promise.all([realpath(root).catch(() => root), realpath(resolved)]);
  if (!isInside(realRoot, real)) {
    throw new FilePathError(
      `"${path.relative(root, resolved).split(path.sep).join("/")}" is a link that leads outside the files directory`,
    );
  }
  return real;
}

/**
 * Makes the folder `resolved` (inside `root`) and any missing parents, after checking that the deepest part that
 * already exists is no link leading out of the root, so nothing is ever created on the far side of one; the
 * folder is checked again once made.
 */
export async function mkdirInRoot(root: string, resolved: string): Promise<string> {
  let existing = resolved;
  while (existing !== root && isInside(root, existing)) {
    if (
      await stat(existing).then(
        () => true,
        () => false,
      )
    ) {
      break;
    }
    existing = path.dirname(existing);
  }
  await realInRoot(root, existing);
  await mkdir(resolved, { recursive: true });
  return realInRoot(root, resolved);
}
