import { describe, expect, it } from "vitest";
import { filePathProblem, fillFilePath } from "./report-file-path";

describe("a report's file path", () => {
  it("accepts relative paths with {date} and {time} ending in the format's extension", () => {
    expect(filePathProblem("reports/orders-{date}.csv", "CSV")).toBeNull();
    expect(filePathProblem("daily/{date}/orders-{time}.parquet", "PARQUET")).toBeNull();
  });

  it("refuses what could leave the workspace's folder, and says why", () => {
    expect(filePathProblem("/etc/x.csv", "CSV")).toMatch(/relative/);
    expect(filePathProblem("C:/x.csv", "CSV")).toMatch(/relative/);
    expect(filePathProblem("../x.csv", "CSV")).toMatch(/'\.\.' is not allowed/);
    expect(filePathProblem("a/../../x.csv", "CSV")).toMatch(/'\.\.' is not allowed/);
    expect(filePathProblem("a\\x.csv", "CSV")).toMatch(/separate folders with \//);
    expect(filePathProblem("a//x.csv", "CSV")).toMatch(/empty/);
  });

  it("refuses unknown tokens and a wrong extension", () => {
    expect(filePathProblem("x-{user}.csv", "CSV")).toBe("unknown token {user}: use {date} or {time}");
    expect(filePathProblem("x.csv", "PARQUET")).toBe("a Parquet report's file ends in .parquet");
    expect(filePathProblem("x.parquet", "CSV")).toBe("a CSV report's file ends in .csv");
  });

  it("fills {date} and {time} in the report's time zone", () => {
    const at = new Date("2026-03-01T23:30:05Z");
    expect(fillFilePath("r/{date}-{time}.csv", at, "UTC")).toBe("r/2026-03-01-233005.csv");
    expect(fillFilePath("r/{date}-{time}.csv", at, "Europe/Berlin")).toBe("r/2026-03-02-003005.csv");
    expect(fillFilePath("r/{date}.csv", at, "America/New_York")).toBe("r/2026-03-01.csv");
  });
});
