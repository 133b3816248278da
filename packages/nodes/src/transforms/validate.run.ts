import { compileJsonSchema, recordViolations } from "../json-schema-check";
import type { TransformRuntime } from "../runtime-contract";
import { NodeConfigError } from "../runtime-expressions";
import type { ValidateConfig } from "./validate.def";

export const validateRuntime: TransformRuntime<ValidateConfig> = {
  kind: "transform",
  type: "transform.validate",
  create(ctx) {
    const { errorsField, maxErrors } = ctx.config;
    const compiled = compileJsonSchema(ctx.config.schema);
    if (!compiled.ok) {
      throw new NodeConfigError(ctx.nodeId, "schema", compiled.problems.map((p) => p.message).join("; "));
    }
    const validate = compiled.validate;
    // Plain boolean: ajv's type guard would narrow the record to `never` on the invalid branch.
    const isValid: (data: unknown) => boolean = validate;
    return {
      process(record, emit) {
        if (isValid(record)) {
          emit(record, "out");
          return;
        }
        emit({ ...record, [errorsField]: recordViolations(validate.errors ?? [], maxErrors) }, "errors");
      },
    };
  },
};
