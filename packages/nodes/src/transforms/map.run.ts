import { compileExpression } from "@sluice/pipeline/expr/compile";
import type { DataRecord } from "@sluice/pipeline/record-schema";
import { copyWithout, RecordError } from "../record-fields";
import type { TransformRuntime } from "../runtime-contract";
import { runtimeCompileOptions, unwrapCompiled } from "../runtime-expressions";
import { type MapConfig, withComputedField } from "./map.def";

export const mapRuntime: TransformRuntime<MapConfig> = {
  kind: "transform",
  type: "transform.map",
  create(ctx) {
    const options = runtimeCompileOptions(ctx, "in");
    const names: string[] = [];
    const evaluators: ((record: DataRecord) => unknown)[] = [];
    const drop = new Set(ctx.config.drop);
    let readsDropped = false;
    // Each expression is compiled against the input schema plus the fields computed before it, as infer checks it.
    let schema = options.schema;
    for (const [name, source] of Object.entries(ctx.config.set)) {
      const compiled = unwrapCompiled(compileExpression(source, { ...options, schema }), ctx, `set.${name}`);
      names.push(name);
      evaluators.push(compiled.evaluate);
      readsDropped ||= compiled.fields.some((f) => drop.has(f));
      schema = withComputedField(schema, name, compiled.type, compiled.nullable);
    }
    const n = names.length;
    // Fields that no expression reads can be left out while copying; otherwise they go after computing.
    const dropEarly = drop.size > 0 && !readsDropped;
    const dropLate = drop.size > 0 && readsDropped;

    return {
      process(record, emit) {
        const out: DataRecord = dropEarly ? copyWithout(record, drop) : { ...record };
        let i = 0;
        try {
          for (; i < n; i++) out[names[i]!] = evaluators[i]!(out);
        } catch (err) {
          throw new RecordError(`set.${names[i]}`, err instanceof Error ? err.message : String(err), { cause: err });
        }
        emit(dropLate ? copyWithout(out, drop) : out);
      },
    };
  },
};
