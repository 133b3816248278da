import type { TransformRuntime } from "../runtime-contract";
import type { UnionConfig } from "./union.def";

export const unionRuntime: TransformRuntime<UnionConfig> = {
  kind: "transform",
  type: "transform.union",
  create() {
    return {
      process(record, emit) {
        emit(record);
      },
    };
  },
};
