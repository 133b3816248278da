import { describe, expect, it } from "vitest";
import {
  exitCodeFor,
  playwrightCounts,
  singleCheck,
  sumCounts,
  summaryLine,
  turboCounts,
  vitestCounts,
} from "./results.mjs";

const vitestReport = (over: object = {}) => ({
  numPassedTests: 5,
  numFailedTests: 1,
  numPendingTests: 2,
  numTodoTests: 1,
  testResults: [
    { name: "/r/a.test.ts", status: "passed", message: "", assertionResults: [{ status: "passed" }] },
    { name: "/r/b.test.ts", status: "failed", message: "", assertionResults: [{ status: "failed" }] },
  ],
  ...over,
});

describe("vitestCounts", () => {
  it("reads passed, failed and skipped (pending + todo) tests", () => {
    expect(vitestCounts(vitestReport(), 1)).toMatchObject({ passed: 5, failed: 1, skipped: 3 });
  });

  it("counts a file that failed outside its tests as a failure", () => {
    const report = vitestReport({
      numFailedTests: 0,
      testResults: [
        { name: "/r/c.int.test.ts", status: "failed", message: "Cannot find module 'x'\n  at …", assertionResults: [] },
      ],
    });
    const counts = vitestCounts(report, 1);
    expect(counts.failed).toBe(1);
    expect(counts.notes).toEqual(["/r/c.int.test.ts: Cannot find module 'x'"]);
  });

  it("never lets a failing exit code pass", () => {
    expect(vitestCounts(vitestReport({ numFailedTests: 0, testResults: [] }), 1).failed).toBe(1);
    expect(vitestCounts(undefined, 0)).toMatchObject({ passed: 0, failed: 1 });
  });
});

describe("playwrightCounts", () => {
  it("counts expected and flaky as passed, unexpected and global errors as failed", () => {
    const report = {
      stats: { expected: 3, unexpected: 1, flaky: 1, skipped: 2 },
      errors: [{ message: "globalSetup: boom\nstack" }],
    };
    expect(playwrightCounts(report, 1)).toMatchObject({ passed: 4, failed: 2, skipped: 2 });
    expect(playwrightCounts(report, 1).notes[0]).toBe("globalSetup: boom");
  });

  it("fails a run that wrote no report", () => {
    expect(playwrightCounts(undefined, 1)).toMatchObject({ passed: 0, failed: 1 });
  });
});

describe("turboCounts", () => {
  const summary = {
    tasks: [
      { taskId: "@s/a#typecheck", task: "typecheck", package: "@s/a", execution: { exitCode: 0 } },
      { taskId: "@s/b#typecheck", task: "typecheck", package: "@s/b", execution: { exitCode: 2 } },
      { taskId: "@s/c#typecheck", task: "typecheck", package: "@s/c", cache: { status: "HIT" } },
      { taskId: "@s/db#generate", task: "generate", package: "@s/db", execution: { exitCode: 0 } },
    ],
  };

  it("gives one check per package that ran the task", () => {
    expect(turboCounts(summary, 2, "typecheck")).toMatchObject({ passed: 2, failed: 1, notes: ["@s/b failed"] });
  });

  it("counts a failed dependency task as a failure", () => {
    const broken = {
      tasks: [...summary.tasks.slice(0, 1), { taskId: "@s/db#generate", task: "generate", execution: { exitCode: 1 } }],
    };
    expect(turboCounts(broken, 1, "typecheck")).toMatchObject({ passed: 1, failed: 1 });
  });

  it("falls back to the exit code without a summary", () => {
    expect(turboCounts(undefined, 0, "typecheck")).toMatchObject({ passed: 1, failed: 0 });
    expect(turboCounts(undefined, 1, "typecheck")).toMatchObject({ passed: 0, failed: 1 });
  });
});

describe("summing", () => {
  it("adds layers and prints skipped only when there are any", () => {
    const total = sumCounts([singleCheck(0), singleCheck(1), vitestCounts(vitestReport(), 1)]);
    expect(summaryLine(total)).toBe("6 passed, 2 failed, 3 skipped");
    expect(summaryLine(sumCounts([singleCheck(0)]))).toBe("1 passed, 0 failed");
  });

  it("exits 1 on any failure and when nothing ran", () => {
    expect(exitCodeFor(sumCounts([singleCheck(0)]))).toBe(0);
    expect(exitCodeFor(sumCounts([singleCheck(0), singleCheck(3)]))).toBe(1);
    expect(exitCodeFor(sumCounts([]))).toBe(1);
    expect(exitCodeFor({ passed: 0, failed: 0, skipped: 4, notes: [] })).toBe(1);
  });
});
