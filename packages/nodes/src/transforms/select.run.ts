import type { DataRecord } from "@sluice/pipeline/record-schema";
import { ownValue, setField } from "../record-fields";
import type { TransformRuntime } from "../runtime-contract";
import { type SelectConfig, selectedFields } from "./select.def";

export const selectRuntime: TransformRuntime<SelectConfig> = {
  kind: "transform",
  type: "transform.select",
  create(ctx) {
    const picks = selectedFields(ctx.config);
    if (picks) {
      const from = picks.map((p) => p.from);
      const as = picks.map((p) => p.as);
      const n = picks.length;
      return {
        process(record, emit) {
          const out: DataRecord = {};
          for (let i = 0; i < n; i++) {
            const v = ownValue(record, from[i]!);
            setField(out, as[i]!, v === undefined ? null : v);
          }
          emit(out);
        },
      };
    }
    const drop = new Set(ctx.config.drop ?? []);
    const rename = new Map(Object.entries(ctx.config.rename ?? {}));
    // A field whose name a rename takes over (schemaless input only; infer refuses it for known schemas).
    const shadowed = new Set([...rename.values()].filter((to) => !rename.has(to)));
    return {
      process(record, emit) {
        const out: DataRecord = {};
        for (const key in record) {
          if (drop.has(key)) continue;
          const to = rename.get(key);
          if (to !== undefined) out[to] = record[key];
          else if (!shadowed.has(key)) setField(out, key, record[key]);
        }
        emit(out);
      },
    };
  },
};
