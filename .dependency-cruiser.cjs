// The intended direction of imports between Sluice's workspaces, declared once and checked by `npm run lint`:
//
//   pipeline ← nodes ← engine ← worker, cli      (the model, the node types, the runtime, the processes)
//   pipeline, nodes, db ← api ← web              (the API and the browser app never load the engine)
//   log: used by anyone, uses none of ours       test-kit: test support, imported only by tests
//
// Workspaces import each other by package name (`@sluice/engine/fleet-worker`, resolved through each package's
// `./*` → `./src/*.ts` export), never by a relative path out of their own folder. Test code (tests, test-kit,
// `test/` and `testing/` folders, e2e) may reach further down the graph than the code it tests: a node's test may
// run it on a real engine.

/** Test files and test support, wherever they live. */
const TEST = "(\\.test\\.tsx?|\\.spec\\.ts)$|/test/|/testing/|^packages/test-kit/|^e2e/";
const ours = (...names) => `^packages/(${names.join("|")})/`;

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "no-relative-import-out-of-a-workspace",
      comment:
        "A workspace imports another by its package name (@sluice/x/...), never by a relative path out of its own " +
        "folder: the package's exports are the only door in.",
      severity: "error",
      from: { path: "^(apps/[^/]+|packages/[^/]+|bench|e2e|scripts)/" },
      to: { dependencyTypes: ["local"], pathNot: "^$1/" },
    },
    {
      name: "pipeline-imports-none-of-ours",
      comment:
        "packages/pipeline is the model and expression language everything else builds on; it depends on none of them.",
      severity: "error",
      from: { path: ours("pipeline") },
      to: { path: "^(packages/(?!pipeline/)[^/]+|apps|bench|e2e|scripts)/" },
    },
    {
      name: "nodes-build-on-pipeline-only",
      comment:
        "Node types use the model (and the logger); the engine, the API and the database use them, not the reverse.",
      severity: "error",
      from: { path: ours("nodes"), pathNot: TEST },
      to: { path: `${ours("engine", "api", "db", "test-kit")}|^(apps|bench|e2e|scripts)/` },
    },
    {
      name: "engine-knows-no-api-or-database",
      comment:
        "The engine runs pipelines from Redis; the API and its database sit on the other side of the control protocol.",
      severity: "error",
      from: { path: ours("engine"), pathNot: TEST },
      to: { path: `${ours("api", "db", "test-kit")}|^(apps|bench|e2e|scripts)/` },
    },
    {
      name: "api-does-not-load-the-engine",
      comment:
        "The API talks to the engine through Redis and the control protocol (@sluice/pipeline/control), never in-process.",
      severity: "error",
      from: { path: ours("api"), pathNot: TEST },
      to: { path: `${ours("engine", "test-kit")}|^(apps|bench|e2e|scripts)/` },
    },
    {
      name: "web-does-not-load-the-engine",
      comment: "The web app reaches runs through the API only.",
      severity: "error",
      from: { path: "^apps/web/" },
      to: { path: ours("engine") },
    },
    {
      name: "web-browser-code-uses-node-declarations-only",
      comment:
        "Outside src/server and route handlers the web app may bundle for the browser: it uses node declarations " +
        "(.def.ts, the catalog), never a node's runtime (.run.ts) or the runtime registries.",
      severity: "error",
      from: { path: "^apps/web/src/", pathNot: `^apps/web/src/(server/|app/.*/route\\.ts$)|${TEST}` },
      to: { path: "^packages/nodes/src/(.+\\.run\\.ts|runtimes\\.ts|connection-runtimes\\.ts)$" },
    },
    {
      name: "nothing-imports-an-app",
      comment: "Apps are the top of the graph: packages, bench, e2e and scripts never import one.",
      severity: "error",
      from: { path: "^(packages|bench|e2e|scripts)/" },
      to: { path: "^apps/" },
    },
    {
      name: "no-app-imports-another",
      severity: "error",
      from: { path: "^apps/([^/]+)/", pathNot: "^apps/cli/" },
      to: { path: "^apps/", pathNot: "^apps/$1/" },
    },
    {
      name: "the-cli-embeds-only-the-worker",
      comment: "The one exception: `sluice run` starts a worker in its own process (@sluice/worker/main).",
      severity: "error",
      from: { path: "^apps/cli/" },
      to: { path: "^apps/(?!cli/)", pathNot: "^apps/worker/src/main\\.ts$" },
    },
    {
      name: "test-kit-only-from-tests",
      comment: "@sluice/test-kit is test support: running code never loads it.",
      severity: "error",
      from: { pathNot: TEST },
      to: { path: "^packages/test-kit/" },
    },
    {
      name: "db-and-log-are-leaves",
      comment: "The database client and the logger import none of our workspaces.",
      severity: "error",
      from: { path: "^packages/(db|log)/" },
      to: { path: "^(packages|apps)/", pathNot: "^packages/$1/" },
    },
    {
      name: "no-circular",
      comment:
        "A cycle of imports makes load order matter and the modules inseparable. A type-only import is erased at " +
        "compile time, so a cycle through one changes nothing at run time and is allowed.",
      severity: "error",
      from: {},
      to: { circular: true, viaOnly: { dependencyTypesNot: ["type-only"] } },
    },
    {
      name: "no-unresolvable-import",
      comment:
        "Every import of ours resolves to a file (a wrong path would otherwise only show at run time). The Prisma " +
        "client is generated (npm test's lint runs before the typecheck layer generates it), so it may be missing.",
      severity: "error",
      from: {},
      to: { couldNotResolve: true, pathNot: "generated/prisma/" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: {
      path: "(^|/)(node_modules|\\.next|\\.turbo|test-results|playwright-report)/|^packages/db/src/generated/",
    },
    // `import type` counts: a type-only import still ties the modules together.
    tsPreCompilationDeps: true,
    // The web app's `@/*` alias; no other workspace has path aliases.
    tsConfig: { fileName: ".dependency-cruiser.tsconfig.json" },
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["import", "require", "node", "default", "types"],
      extensions: [".ts", ".tsx", ".mts", ".mjs", ".js", ".cjs", ".d.ts"],
      mainFields: ["module", "main", "types", "typings"],
    },
    skipAnalysisNotInRules: true,
  },
};
