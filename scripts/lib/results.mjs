// Counting test results across layers (lint, typecheck, docs, unit, integration, e2e) from each
// tool's own report. Pure functions: the test run reads the files and passes the parsed JSON in.
// A layer that fails without saying which tests failed (a crash, a failing global setup) still counts
// as one failure, so a broken layer can never pass silently.

/** @typedef {{ passed: number, failed: number, skipped: number, notes: string[] }} Counts */

/** @returns {Counts} */
function noCounts() {
  return { passed: 0, failed: 0, skipped: 0, notes: [] };
}

/**
 * A layer that is one check (lint, docs): passed when the command exited 0.
 * @param {number | null} exitCode @param {string} [failureNote]
 * @returns {Counts}
 */
export function singleCheck(exitCode, failureNote) {
  if (exitCode === 0) return { passed: 1, failed: 0, skipped: 0, notes: [] };
  return { passed: 0, failed: 1, skipped: 0, notes: [failureNote ?? `exited with code ${exitCode}`] };
}

/**
 * From vitest's JSON reporter. Test files that failed outside any test (an import error, a failing
 * beforeAll) count as one failure each.
 * @param {any} report parsed JSON, or undefined when the file was not written
 * @param {number | null} exitCode
 * @returns {Counts}
 */
export function vitestCounts(report, exitCode) {
  if (!report || typeof report !== "object") {
    return { passed: 0, failed: 1, skipped: 0, notes: [`vitest wrote no report (exit code ${exitCode})`] };
  }
  const counts = {
    passed: Number(report.numPassedTests ?? 0),
    failed: Number(report.numFailedTests ?? 0),
    skipped: Number(report.numPendingTests ?? 0) + Number(report.numTodoTests ?? 0),
    notes: /** @type {string[]} */ ([]),
  };
  for (const file of Array.isArray(report.testResults) ? report.testResults : []) {
    const assertions = Array.isArray(file.assertionResults) ? file.assertionResults : [];
    if (file.status === "failed" && !assertions.some((/** @type {any} */ a) => a.status === "failed")) {
      counts.failed += 1;
      const message = String(file.message ?? "").split("\n")[0];
      counts.notes.push(`${file.name}: ${message || "failed outside its tests"}`);
    }
  }
  if (exitCode !== 0 && counts.failed === 0) {
    counts.failed = 1;
    counts.notes.push(`vitest exited with code ${exitCode} though no test failed (an unhandled error?)`);
  }
  return counts;
}

/**
 * From Playwright's JSON reporter: expected and flaky tests passed, unexpected ones failed; errors
 * outside tests (global setup, config) count as failures.
 * @param {any} report @param {number | null} exitCode
 * @returns {Counts}
 */
export function playwrightCounts(report, exitCode) {
  if (!report || typeof report !== "object" || !report.stats) {
    return { passed: 0, failed: 1, skipped: 0, notes: [`playwright wrote no report (exit code ${exitCode})`] };
  }
  const { expected = 0, unexpected = 0, flaky = 0, skipped = 0 } = report.stats;
  const errors = Array.isArray(report.errors) ? report.errors : [];
  const counts = {
    passed: Number(expected) + Number(flaky),
    failed: Number(unexpected) + errors.length,
    skipped: Number(skipped),
    notes: errors.map((/** @type {any} */ e) => String(e.message ?? e).split("\n")[0]),
  };
  if (Number(flaky) > 0) counts.notes.push(`${flaky} flaky (passed on retry)`);
  if (exitCode !== 0 && counts.failed === 0) {
    counts.failed = 1;
    counts.notes.push(`playwright exited with code ${exitCode} though no test failed`);
  }
  return counts;
}

/**
 * From a `turbo run <task> --summarize` summary: one check per package that ran `task`; any other
 * task that failed (e.g. `generate`) counts as a failure too.
 * @param {any} summary @param {number | null} exitCode @param {string} task
 * @returns {Counts}
 */
export function turboCounts(summary, exitCode, task) {
  const tasks = Array.isArray(summary?.tasks) ? summary.tasks : undefined;
  if (!tasks) return singleCheck(exitCode, `turbo wrote no run summary (exit code ${exitCode})`);
  const succeeded = (/** @type {any} */ t) =>
    t.execution?.exitCode === 0 || (!t.execution && t.cache?.status === "HIT");
  const counts = noCounts();
  for (const t of tasks) {
    if (t.task === task) {
      if (succeeded(t)) counts.passed += 1;
      else {
        counts.failed += 1;
        counts.notes.push(`${t.package ?? t.taskId} failed`);
      }
    } else if (t.execution && t.execution.exitCode !== 0) {
      counts.failed += 1;
      counts.notes.push(`${t.taskId} failed`);
    }
  }
  if (exitCode !== 0 && counts.failed === 0) {
    counts.failed = 1;
    counts.notes.push(`turbo exited with code ${exitCode} though every task passed`);
  }
  return counts;
}

/** @param {Counts[]} list @returns {Counts} */
export function sumCounts(list) {
  return list.reduce(
    (total, c) => ({
      passed: total.passed + c.passed,
      failed: total.failed + c.failed,
      skipped: total.skipped + c.skipped,
      notes: [...total.notes, ...c.notes],
    }),
    noCounts(),
  );
}

/** "N passed, N failed" plus ", N skipped" when any were skipped. @param {Counts} counts */
export function summaryLine({ passed, failed, skipped }) {
  return `${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ""}`;
}

/** 1 when anything failed or nothing ran at all. @param {Counts} counts */
export function exitCodeFor({ passed, failed }) {
  return failed > 0 || passed + failed === 0 ? 1 : 0;
}
