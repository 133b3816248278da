import type { CompileOptions, CompileResult } from "@sluice/pipeline/expr/types";
import { emptySchema } from "@sluice/pipeline/record-schema";
import type { RuntimeContext } from "./runtime-contract";

export class NodeConfigError extends Error {
  override name = "NodeConfigError";
  constructor(
    readonly nodeId: string,
    readonly path: string,
    message: string,
  ) {
    super(`node ${nodeId} ${path}: ${message}`);
  }
}

/** Compile options for an expression evaluated on records arriving at `port`, with parameters bound. */
export function runtimeCompileOptions(ctx: RuntimeContext<unknown>, port: string): CompileOptions {
  const parameters = Object.fromEntries(
    Object.entries(ctx.parameters).map(([name, value]) => [
      name,
      { type: typeof value as "string" | "number" | "boolean", value },
    ]),
  );
  return { schema: ctx.inputs[port] ?? emptySchema, parameters };
}

/** Validation ran before the run started, so a failure here means the definition changed under us: fail loudly. */
export function unwrapCompiled<T>(result: CompileResult<T>, ctx: RuntimeContext<unknown>, path: string): T {
  if (result.ok) return result.value;
  throw new NodeConfigError(ctx.nodeId, path, result.errors.map((e) => e.message).join("; "));
}
