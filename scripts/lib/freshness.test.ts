import { mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { installReason } from "./install.mjs";
import { webBuildIsCurrent } from "./web-build.mjs";

let root: string;
const hourAgo = new Date(Date.now() - 3_600_000);
const now = new Date();
const later = new Date(Date.now() + 60_000);

function write(file: string, time: Date, content = "x") {
  const full = path.join(root, file);
  mkdirSync(path.dirname(full), { recursive: true });
  writeFileSync(full, content);
  utimesSync(full, time, time);
  utimesSync(path.dirname(full), time, time);
}

beforeEach(() => {
  root = mkdtempSync(path.join(tmpdir(), "sluice-freshness-"));
});
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

describe("installReason", () => {
  it("asks for an install when node_modules is missing", () => {
    write("package-lock.json", hourAgo);
    expect(installReason(root)).toBe("node_modules is missing");
  });

  it("asks for one when package-lock.json is newer than the last install", () => {
    write("node_modules/.package-lock.json", hourAgo);
    write("package-lock.json", now);
    expect(installReason(root)).toBe("package-lock.json changed since the last install");
  });

  it("is satisfied when the last install is newer than the lock file", () => {
    write("package-lock.json", hourAgo);
    write("node_modules/.package-lock.json", now);
    expect(installReason(root)).toBeUndefined();
  });
});

/** Gives every folder (but .next) an old time, as if the sources were last touched before the build. */
function settleFolders(dir = root) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory() && entry.name !== ".next") settleFolders(path.join(dir, entry.name));
  }
  utimesSync(dir, hourAgo, hourAgo);
}

describe("webBuildIsCurrent", () => {
  beforeEach(() => {
    write("apps/web/src/app/page.tsx", hourAgo);
    write("packages/pipeline/src/definition.ts", hourAgo);
    write("package-lock.json", hourAgo);
    write("apps/web/.next/BUILD_ID", now);
    settleFolders();
  });

  it("is current when the build is newer than every source", () => {
    expect(webBuildIsCurrent(root)).toBe(true);
  });

  it("is stale when there is no build", () => {
    rmSync(path.join(root, "apps/web/.next"), { recursive: true });
    expect(webBuildIsCurrent(root)).toBe(false);
  });

  it("is stale when a web or package source changed after the build", () => {
    write("packages/pipeline/src/definition.ts", later);
    expect(webBuildIsCurrent(root)).toBe(false);
  });

  it("is stale when a file was deleted (its folder changed)", () => {
    rmSync(path.join(root, "apps/web/src/app/page.tsx"));
    utimesSync(path.join(root, "apps/web/src/app"), later, later);
    expect(webBuildIsCurrent(root)).toBe(false);
  });

  it("ignores what tools write: generated clients, tsbuildinfo, next-env.d.ts", () => {
    write("packages/db/src/generated/prisma/client.ts", later);
    write("apps/web/tsconfig.tsbuildinfo", later);
    write("apps/web/next-env.d.ts", later);
    settleFolders();
    expect(webBuildIsCurrent(root)).toBe(true);
  });
});
