import type { ReportCondition } from "./report-router.types";

// A query alert's test on a result: the row count, or a column of the first row, against a threshold. Pure.

export interface ConditionVerdict {
  met: boolean;
  /** What was compared: the row count, or the column's value as a number (null when it is not one). */
  value: number | null;
  /** Why the test could not be made (the column is missing, or not a number); `met` is false then. */
  problem: string | null;
}

const COMPARE: Record<ReportCondition["op"], (a: number, b: number) => boolean> = {
  ">": (a, b) => a > b,
  ">=": (a, b) => a >= b,
  "<": (a, b) => a < b,
  "<=": (a, b) => a <= b,
  "=": (a, b) => a === b,
  "!=": (a, b) => a !== b,
};

/** A result cell as a number: numbers, and decimals or big integers sent as text. */
function numeric(cell: unknown): number | null {
  if (typeof cell === "number") return Number.isFinite(cell) ? cell : null;
  if (typeof cell === "string" && cell.trim() !== "" && Number.isFinite(Number(cell))) return Number(cell);
  if (typeof cell === "boolean") return cell ? 1 : 0;
  return null;
}

export function evaluateCondition(
  condition: ReportCondition,
  result: { columns: readonly { name: string }[]; rows: readonly (readonly unknown[])[] },
): ConditionVerdict {
  if (condition.kind === "rows") {
    const count = result.rows.length;
    return { met: COMPARE[condition.op](count, condition.value), value: count, problem: null };
  }
  const index = result.columns.findIndex((c) => c.name === condition.column);
  if (index < 0) {
    return { met: false, value: null, problem: `the result has no column "${condition.column}"` };
  }
  const first = result.rows[0];
  if (!first) return { met: false, value: null, problem: "the result has no rows" };
  const value = numeric(first[index]);
  if (value === null) {
    return { met: false, value: null, problem: `column "${condition.column}" of the first row is not a number` };
  }
  return { met: COMPARE[condition.op](value, condition.value), value, problem: null };
}

/** "the row count" / "mean_latency of the first row", for sentences. */
function conditionSubject(condition: ReportCondition): string {
  return condition.kind === "rows" ? "the row count" : `${condition.column} of the first row`;
}

/** The inbox's sentence for a change of truth. */
export function conditionNotice(
  report: string,
  severity: string,
  condition: ReportCondition,
  state: "firing" | "recovered",
  value: number | null,
): string {
  const subject = conditionSubject(condition);
  const shown = value === null ? "no value" : String(value);
  return state === "firing"
    ? `[${severity}] Report "${report}" is firing: ${subject} is ${shown}, ${condition.op} ${condition.value}`
    : `Report "${report}" recovered: ${subject} is ${shown}, no longer ${condition.op} ${condition.value}`;
}
