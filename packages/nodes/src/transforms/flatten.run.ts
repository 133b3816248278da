import type { DataRecord } from "@sluice/pipeline/record-schema";
import { copyWithout, ownValue, RecordError } from "../record-fields";
import type { TransformRuntime } from "../runtime-contract";
import type { FlattenConfig } from "./flatten.def";

function describe(value: unknown): string {
  if (typeof value === "string")
    return `text (${JSON.stringify(value.length > 40 ? `${value.slice(0, 37)}...` : value)})`;
  return value !== null && typeof value === "object" ? "an object" : `${typeof value} ${String(value)}`;
}

export const flattenRuntime: TransformRuntime<FlattenConfig> = {
  kind: "transform",
  type: "transform.flatten",
  create(ctx) {
    const { field, keepEmpty } = ctx.config;
    const as = ctx.config.as ?? field;
    const index = ctx.config.index;
    const inPlace = as === field;
    const without = new Set([field]);
    const base = (record: DataRecord): DataRecord => (inPlace ? { ...record } : copyWithout(record, without));

    return {
      process(record, emit) {
        const value = ownValue(record, field);
        if (value === null || value === undefined || (Array.isArray(value) && value.length === 0)) {
          if (!keepEmpty) return;
          const out = base(record);
          out[as] = null;
          if (index !== undefined) out[index] = null;
          emit(out);
          return;
        }
        if (!Array.isArray(value)) throw new RecordError(field, `expected an array but found ${describe(value)}`);
        for (let i = 0; i < value.length; i++) {
          const out = base(record);
          const element: unknown = value[i];
          out[as] = element === undefined ? null : element;
          if (index !== undefined) out[index] = i + 1;
          emit(out);
        }
      },
    };
  },
};
