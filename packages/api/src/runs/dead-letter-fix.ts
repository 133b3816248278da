import { compileExpression } from "@sluice/pipeline/expr/compile";
import { ExpressionRuntimeError } from "@sluice/pipeline/expr/errors";
import type { DataRecord } from "@sluice/pipeline/record-schema";
import { openSchema } from "@sluice/pipeline/record-schema";

// A fix for many dead letters at once: assignments in the project's expression language, one a line, as a map node
// computes fields (`price = CAST(replace(price, ',', '.') AS double)`). Each right-hand side is parsed, checked and
// compiled by the expression compiler — with its limits on size, depth and work — against a schemaless record, and
// sees the fields assigned above it. Nothing a user types is evaluated as code.

/** One problem with a fix, where it is: 1-based line and column of the whole text. */
export interface FixProblem {
  line: number;
  column: number;
  message: string;
}

export type RecordFix = (record: DataRecord) => DataRecord;

const ASSIGNMENT = /^(\s*)([A-Za-z_][A-Za-z0-9_]*)\s*=(?!=)\s*/;

/** Compiles the assignments; the problems, each with its place, when any is wrong. */
export function compileRecordFix(text: string): { ok: true; fix: RecordFix } | { ok: false; problems: FixProblem[] } {
  const problems: FixProblem[] = [];
  const steps: { name: string; evaluate: (record: DataRecord) => unknown }[] = [];
  text.split("\n").forEach((raw, i) => {
    const line = raw.replace(/\r$/, "");
    if (line.trim() === "" || line.trim().startsWith("--")) return;
    const m = ASSIGNMENT.exec(line);
    if (!m) {
      const column = line.length - line.trimStart().length + 1;
      problems.push({ line: i + 1, column, message: "expected an assignment: field = expression" });
      return;
    }
    const source = line.slice(m[0].length);
    const startColumn = m[0].length + 1;
    if (source.trim() === "") {
      problems.push({ line: i + 1, column: startColumn, message: `write an expression for ${m[2]} after =` });
      return;
    }
    const compiled = compileExpression(source, { schema: openSchema });
    if (!compiled.ok) {
      for (const e of compiled.errors) {
        const column = e.position.line === 1 ? startColumn + e.position.column - 1 : e.position.column;
        problems.push({ line: i + 1 + e.position.line - 1, column, message: e.message });
      }
      return;
    }
    steps.push({ name: m[2]!, evaluate: compiled.value.evaluate });
  });
  if (problems.length > 0) return { ok: false, problems };
  if (steps.length === 0) {
    return {
      ok: false,
      problems: [{ line: 1, column: 1, message: "write at least one assignment: field = expression" }],
    };
  }
  return {
    ok: true,
    fix(record) {
      const out: DataRecord = { ...record };
      for (const step of steps) {
        try {
          out[step.name] = step.evaluate(out);
        } catch (err) {
          const message = err instanceof ExpressionRuntimeError ? err.detail : String(err);
          throw new RecordFixError(`${step.name}: ${message}`);
        }
      }
      return out;
    },
  };
}

/** One record could not be fixed: the assignment and what went wrong. */
export class RecordFixError extends Error {
  override name = "RecordFixError";
}

/** "line 2, column 9: …" for every problem, in one sentence a 4xx error can carry. */
export function describeFixProblems(problems: readonly FixProblem[]): string {
  return problems.map((p) => `line ${p.line}, column ${p.column}: ${p.message}`).join("; ");
}
