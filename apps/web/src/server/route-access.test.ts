import { readdirSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { ROUTE_ACCESS } from "./route-access";

// Every HTTP route under src/app/api declares who may call it (route-access.ts); the route files are found on disk,
// so a new route without a declaration fails here.

const appDir = join(dirname(fileURLToPath(import.meta.url)), "..", "app");

function routeFolders(dir: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...routeFolders(path));
    else if (/^route\.(ts|tsx|js|mjs)$/.test(entry.name)) found.push(relative(appDir, dir).split("\\").join("/"));
  }
  return found;
}

describe("HTTP route rules", () => {
  const routes = routeFolders(join(appDir, "api")).sort();

  it("finds the route files", () => {
    expect(routes).toContain("api/trpc/[trpc]");
  });

  it("declares a rule for every route, and none for a route that does not exist", () => {
    const declared = Object.keys(ROUTE_ACCESS).sort();
    expect(routes.filter((r) => !declared.includes(r))).toEqual([]);
    expect(declared.filter((r) => !routes.includes(r))).toEqual([]);
  });
});
