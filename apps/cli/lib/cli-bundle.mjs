// Loads the `sluice` command's main(). Its sources are TypeScript spread over about 260 modules of the workspace;
// compiled on load through tsx they take about two seconds before the command does anything. So the first call after
// a source changed bundles them (esbuild, about a second) into one JavaScript file under apps/cli/dist, and every
// later call loads that file, in a fraction of the time. Packages from node_modules stay outside the bundle.
//
// The bundle is rebuilt when any module it was made from is newer than it or gone (their list is kept beside it),
// written to a temporary name and renamed, so concurrent first calls do not see half a file. SLUICE_CLI_BUNDLE=off
// loads the sources through tsx as before, and so does any failure to bundle (reported on stderr).
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const cliDir = fileURLToPath(new URL("..", import.meta.url));
const repoRoot = path.resolve(cliDir, "../..");
const entry = path.join(cliDir, "src/main.ts");
const distDir = path.join(cliDir, "dist");
const bundleFile = path.join(distDir, "sluice.mjs");
const inputsFile = path.join(distDir, "sluice.inputs.json");

/** Whether the bundle exists and is newer than every module it was made from. */
function fresh() {
  let built;
  try {
    built = statSync(bundleFile).mtimeMs;
  } catch {
    return false;
  }
  let inputs;
  try {
    inputs = JSON.parse(readFileSync(inputsFile, "utf8"));
  } catch {
    return false;
  }
  if (!Array.isArray(inputs) || inputs.length === 0) return false;
  for (const file of inputs) {
    try {
      if (statSync(path.join(repoRoot, file)).mtimeMs > built) return false;
    } catch {
      return false;
    }
  }
  return true;
}

/**
 * Each workspace module keeps its own `import.meta.url` (its source file's), so paths it resolves from it — a
 * package.json beside it, the repository root, a worker thread's entry — point where they did before bundling.
 */
const ownUrl = {
  name: "own-import-meta-url",
  setup(build) {
    build.onLoad({ filter: /\.(ts|tsx|mts|js|mjs)$/ }, (args) => {
      if (args.path.includes(`${path.sep}node_modules${path.sep}`)) return undefined;
      const source = readFileSync(args.path, "utf8");
      if (!source.includes("import.meta.url")) return undefined;
      const ext = path.extname(args.path).slice(1);
      return {
        contents: source.replaceAll("import.meta.url", JSON.stringify(pathToFileURL(args.path).href)),
        loader: ext === "tsx" ? "tsx" : ext === "mts" || ext === "ts" ? "ts" : "js",
      };
    });
  },
};

/** Workspace packages (@sluice/*) and relative imports are bundled; everything else is loaded from node_modules. */
const externals = {
  name: "node-modules-outside",
  setup(build) {
    build.onResolve({ filter: /^[^./]/ }, (args) =>
      args.path.startsWith("@sluice/") ? undefined : { path: args.path, external: true },
    );
  },
};

async function bundle() {
  const { build } = await import("esbuild");
  mkdirSync(distDir, { recursive: true });
  const temp = `${bundleFile}.${process.pid}.tmp`;
  const result = await build({
    entryPoints: [entry],
    outfile: temp,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    metafile: true,
    logLevel: "silent",
    plugins: [externals, ownUrl],
    // CommonJS code inside the bundle may call require().
    banner: {
      js: "import { createRequire as __sluiceRequire } from 'node:module'; const require = __sluiceRequire(import.meta.url);",
    },
  });
  const inputs = Object.keys(result.metafile.inputs).map((p) =>
    path.relative(repoRoot, path.resolve(process.cwd(), p)),
  );
  renameSync(temp, bundleFile);
  writeFileSync(`${inputsFile}.${process.pid}.tmp`, JSON.stringify(inputs));
  renameSync(`${inputsFile}.${process.pid}.tmp`, inputsFile);
}

async function fromSources() {
  const { register } = await import("tsx/esm/api");
  register();
  return (await import(pathToFileURL(entry).href)).main;
}

/** The command's main(argv) → exit code. */
export async function loadCli() {
  if (process.env.SLUICE_CLI_BUNDLE === "off") return fromSources();
  if (!fresh()) {
    try {
      await bundle();
    } catch (err) {
      process.stderr.write(`sluice: could not bundle the command (${err?.message ?? err}); running its sources\n`);
      return fromSources();
    }
  }
  return (await import(pathToFileURL(bundleFile).href)).main;
}
