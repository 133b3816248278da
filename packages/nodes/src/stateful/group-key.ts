import { compileExpression } from "@sluice/pipeline/expr/compile";
import type { DataRecord } from "@sluice/pipeline/record-schema";
import type { RuntimeContext } from "../runtime-contract";
import { runtimeCompileOptions, unwrapCompiled } from "../runtime-expressions";

// The key a stateful operator groups records by: its SQL expressions evaluated on a record, as one canonical
// text (the JSON of the values list) used in state-store keys. Equal values give equal text (-0 and 0 alike,
// as the engine's shuffle hashes them), and the values can be read back from the text.

export class GroupKey {
  private readonly evaluators: ((record: DataRecord) => unknown)[];

  constructor(ctx: RuntimeContext<unknown>, port: string, sources: readonly string[], path: string) {
    const options = runtimeCompileOptions(ctx, port);
    this.evaluators = sources.map(
      (source, i) => unwrapCompiled(compileExpression(source, options), ctx, `${path}[${i}]`).evaluate,
    );
  }

  /** The key values of `record` (NULL as null). */
  values(record: DataRecord): unknown[] {
    const out = new Array<unknown>(this.evaluators.length);
    for (let i = 0; i < out.length; i++) out[i] = this.evaluators[i]!(record) ?? null;
    return out;
  }

  /** The key's canonical text. */
  text(record: DataRecord): string {
    return keyText(this.values(record));
  }
}

export function keyText(values: readonly unknown[]): string {
  return JSON.stringify(values);
}

export function keyValues(text: string): unknown[] {
  return JSON.parse(text) as unknown[];
}
