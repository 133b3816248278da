import { compilePredicate } from "@sluice/pipeline/expr/compile";
import type { DataRecord } from "@sluice/pipeline/record-schema";
import type { TransformRuntime } from "../runtime-contract";
import { runtimeCompileOptions, unwrapCompiled } from "../runtime-expressions";
import { type RouteConfig, UNMATCHED } from "./route.def";

export const routeRuntime: TransformRuntime<RouteConfig> = {
  kind: "transform",
  type: "transform.route",
  create(ctx) {
    const options = runtimeCompileOptions(ctx, "in");
    const names = ctx.config.routes.map((r) => r.name);
    const tests = ctx.config.routes.map(
      (r, i) => unwrapCompiled(compilePredicate(r.where, options), ctx, `routes.${i}.where`).test,
    );
    const n = tests.length;
    if (ctx.config.mode === "first") {
      return {
        process(record, emit) {
          for (let i = 0; i < n; i++) {
            if (tests[i]!(record)) {
              emit(record, names[i]);
              return;
            }
          }
          emit(record, UNMATCHED);
        },
      };
    }
    // "all": evaluate every condition before emitting, so a record whose later condition fails is dead-lettered
    // without having reached the earlier outputs (no partial routing).
    const matched = new Array<boolean>(n);
    return {
      process(record: DataRecord, emit) {
        let any = false;
        for (let i = 0; i < n; i++) {
          const m = tests[i]!(record);
          matched[i] = m;
          any ||= m;
        }
        if (!any) {
          emit(record, UNMATCHED);
          return;
        }
        for (let i = 0; i < n; i++) if (matched[i]) emit(record, names[i]);
      },
    };
  },
};
