import { compilePredicate } from "@sluice/pipeline/expr/compile";
import type { TransformRuntime } from "../runtime-contract";
import { runtimeCompileOptions, unwrapCompiled } from "../runtime-expressions";
import type { FilterConfig } from "./filter.def";

export const filterRuntime: TransformRuntime<FilterConfig> = {
  kind: "transform",
  type: "transform.filter",
  create(ctx) {
    const predicate = unwrapCompiled(
      compilePredicate(ctx.config.where, runtimeCompileOptions(ctx, "in")),
      ctx,
      "where",
    );
    return {
      process(record, emit) {
        if (predicate.test(record)) emit(record);
      },
    };
  },
};
