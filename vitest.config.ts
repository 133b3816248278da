import { defineConfig } from "vitest/config";

// Two layers: unit tests (pure, fast) and integration tests (`*.int.test.ts`, real Postgres/Redis/brokers).
// Integration files isolate themselves (own database / key prefix / queue names) so they can run in parallel.
const sources = ["packages/*/src/**", "packages/*/test/**", "apps/*/src/**", "apps/*/test/**", "scripts/**"];

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: sources.map((s) => `${s}/*.test.ts`),
          exclude: ["**/*.int.test.ts", "**/node_modules/**"],
          environment: "node",
          setupFiles: ["./scripts/test-setup-fast-check.ts"],
        },
      },
      {
        test: {
          name: "integration",
          include: sources.map((s) => `${s}/*.int.test.ts`),
          // Two files at a time: most of their time is spent waiting on servers, so this about halves the layer on two
          // cores. A test that reads a server-wide figure (a WAL position) must not assume it alone moves it.
          maxWorkers: 2,
          exclude: ["**/node_modules/**"],
          environment: "node",
          testTimeout: 60_000,
          hookTimeout: 60_000,
          globalSetup: ["./scripts/test-global-setup.ts"],
          setupFiles: ["./scripts/test-setup-fast-check.ts"],
        },
      },
    ],
  },
});
