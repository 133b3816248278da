import type { DataRecord } from "../record-schema";

/** A compiled sub-expression: one closure per syntax node, specialised when the expression is compiled. */
export type Evaluator = (record: DataRecord) => unknown;
