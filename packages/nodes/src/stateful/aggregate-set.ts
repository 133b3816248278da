import { compileAggregate } from "@sluice/pipeline/expr/compile";
import type { CompiledAggregate } from "@sluice/pipeline/expr/types";
import type { DataRecord } from "@sluice/pipeline/record-schema";
import type { JsonValue, RuntimeContext } from "../runtime-contract";
import { runtimeCompileOptions, unwrapCompiled } from "../runtime-expressions";

// A window's named aggregates (`hits: count(*)`, `avg_price: round(avg(price), 2)`) over one accumulator row:
// each aggregate's JSON accumulator sits at `offset + i` of a state array, so a window's whole state is one
// compact JSON value.

export class AggregateSet {
  readonly names: readonly string[];
  private readonly compiled: readonly CompiledAggregate[];

  constructor(ctx: RuntimeContext<unknown>, port: string, aggregates: Readonly<Record<string, string>>, path: string) {
    const options = runtimeCompileOptions(ctx, port);
    this.names = Object.keys(aggregates);
    this.compiled = this.names.map((name) =>
      unwrapCompiled(compileAggregate(aggregates[name]!, options), ctx, `${path}.${name}`),
    );
  }

  /** Appends fresh accumulators to `row`. */
  init(row: JsonValue[]): JsonValue[] {
    for (const c of this.compiled) row.push(c.init() as JsonValue);
    return row;
  }

  /**
   * Fails a record that one of several aggregates cannot take (say, a bad cast in its argument) before any
   * accumulator changed, so a dead-lettered record never counts in some aggregates and not in others. One
   * aggregate needs no check: its `add` is all or nothing.
   */
  check(record: DataRecord): void {
    if (this.compiled.length < 2) return;
    for (const c of this.compiled) c.add(c.init(), record);
  }

  /** Adds `record` to the accumulators at `row[offset …]`, in place. */
  add(row: JsonValue[], offset: number, record: DataRecord): void {
    for (let i = 0; i < this.compiled.length; i++) {
      row[offset + i] = this.compiled[i]!.add(row[offset + i], record) as JsonValue;
    }
  }

  /** Merged accumulators of `a` (the earlier window) and `b`, each read at `offset`, as a new list. */
  merge(a: readonly JsonValue[], b: readonly JsonValue[], offset: number): JsonValue[] {
    return this.compiled.map((c, i) => c.merge(a[offset + i], b[offset + i]) as JsonValue);
  }

  /** Writes each aggregate's result under its name. */
  results(out: DataRecord, row: readonly JsonValue[], offset: number): void {
    for (let i = 0; i < this.compiled.length; i++) {
      out[this.names[i]!] = this.compiled[i]!.result(row[offset + i]);
    }
  }
}
