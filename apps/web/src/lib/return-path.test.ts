import { describe, expect, it } from "vitest";
import { safeReturnPath, signInPath } from "./return-path";

describe("the return path after sign-in", () => {
  it("keeps a path of this site with its query and fragment", () => {
    expect(safeReturnPath("/runs")).toBe("/runs");
    expect(safeReturnPath("/runs/abc?tab=dead#letters")).toBe("/runs/abc?tab=dead#letters");
    expect(safeReturnPath("/pipelines/p1/../../runs")).toBe("/runs");
  });

  it("goes home for anything that could leave the site, or for nothing", () => {
    for (const next of [
      "//evil.example/x",
      "/\\evil.example",
      "https://evil.example/",
      "javascript:alert(1)",
      "/\t/evil.example",
      "runs",
      "",
      null,
      undefined,
      "/signin?next=/runs",
      // Dot segments are removed when the path is parsed, which would leave "//evil.example".
      "/.//evil.example/x",
      "/..//evil.example",
      "/%2e%2e//evil.example",
      "/./\\evil.example",
      "/a/..//evil.example",
    ]) {
      expect(safeReturnPath(next), String(next)).toBe("/pipelines");
    }
  });

  it("asks the sign-in page to come back, encoded, and not for home", () => {
    expect(signInPath("/runs?limit=5")).toBe("/signin?next=%2Fruns%3Flimit%3D5");
    expect(signInPath("/pipelines")).toBe("/signin");
    expect(signInPath("//evil.example")).toBe("/signin");
    expect(signInPath(null)).toBe("/signin");
  });
});
