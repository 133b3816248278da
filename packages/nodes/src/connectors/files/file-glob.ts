import { readdir, stat } from "node:fs/promises";
import path from "node:path";
import { linearRegExp } from "@sluice/pipeline/expr/regex";
import { FilePathError, isInside, realInRoot, resolveInRoot } from "./files-root";

// Expanding a path pattern inside the files directory: `*` and `?` match within one path segment, `**` any number
// of segments, `[abc]` one of the characters. Files still being written by a file sink (`*.inprogress`) never match.

const GLOB_CHARS = /[*?[]/;
export const IN_PROGRESS_SUFFIX = ".inprogress";

/** The pattern as a matcher over relative names; RE2, so `*a*a*a…b` cannot backtrack on a long name. */
export function globToRegExp(pattern: string): { test(name: string): boolean } {
  let re = "";
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === "*") {
      if (pattern[i + 1] === "*") {
        // `**/` matches zero or more directories; a trailing `**` anything below.
        const slash = pattern[i + 2] === "/";
        re += slash ? "(?:[^/]*/)*" : ".*";
        i += slash ? 2 : 1;
      } else re += "[^/]*";
    } else if (ch === "?") re += "[^/]";
    else if (ch === "[") {
      const close = pattern.indexOf("]", i + 1);
      if (close < 0) re += "\\[";
      else {
        const body = pattern.slice(i + 1, close).replace(/\\/g, "\\\\");
        re += `[${body.startsWith("!") ? `^${body.slice(1)}` : body}]`;
        i = close;
      }
    } else re += /[.+^${}()|\\]/.test(ch) ? `\\${ch}` : ch;
  }
  return linearRegExp(`^${re}$`);
}

export interface MatchedFile {
  /** Path relative to the files directory, with `/` separators: the name offsets and records carry. */
  name: string;
  /** Absolute path to read. */
  path: string;
  size: number;
  /** Last modification, epoch ms. */
  mtimeMs: number;
}

async function walk(dir: string, out: string[], depth: number): Promise<void> {
  if (depth > 32) return;
  let entries: import("node:fs").Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) await walk(full, out, depth + 1);
    else if (e.isFile() || e.isSymbolicLink()) out.push(full);
  }
}

/** The files matching `pattern` (relative to `root`), sorted by name. A plain path must exist. */
export async function expandGlob(root: string, pattern: string): Promise<MatchedFile[]> {
  const normalised = pattern.replace(/\\/g, "/").replace(/^\.\//, "");
  const segments = normalised.split("/");
  const firstGlob = segments.findIndex((s) => GLOB_CHARS.test(s));
  if (firstGlob < 0) {
    const resolved = resolveInRoot(root, normalised);
    const real = await realInRoot(root, resolved).catch((err: unknown) => {
      if (err instanceof FilePathError) throw err;
      throw new FilePathError(`there is no file "${normalised}" in the files directory ${root}`);
    });
    const s = await stat(real);
    if (!s.isFile())
      throw new FilePathError(`"${normalised}" is a directory; add a pattern such as "${normalised}/*.csv"`);
    return [
      { name: path.relative(root, resolved).split(path.sep).join("/"), path: real, size: s.size, mtimeMs: s.mtimeMs },
    ];
  }
  const base = resolveInRoot(root, segments.slice(0, firstGlob).join("/") || ".");
  const matcher = globToRegExp(
    path.relative(root, base).split(path.sep).filter(Boolean).concat(segments.slice(firstGlob)).join("/"),
  );
  const found: string[] = [];
  await walk(base, found, 0);
  const files: MatchedFile[] = [];
  for (const full of found) {
    const name = path.relative(root, full).split(path.sep).join("/");
    if (name.endsWith(IN_PROGRESS_SUFFIX) || !matcher.test(name)) continue;
    const real = await realInRoot(root, full);
    if (!isInside(root, full)) continue;
    const s = await stat(real).catch(() => undefined);
    if (s?.isFile()) files.push({ name, path: real, size: s.size, mtimeMs: s.mtimeMs });
  }
  return files.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
