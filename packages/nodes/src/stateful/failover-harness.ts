import type { AnyNodeDefinition } from "@sluice/pipeline/node-definition";
import type { RuntimeContext } from "../runtime-contract";
import { type MemoryStateStore, type TestContextOptions, testContext } from "../testing/operator-harness";

// Unit-test support for stateful operators: what a worker that takes a partition over starts from. The engine
// reloads each store from its committed hash, so values come back through JSON and in the hash's order, not in
// insertion order; the copy here does both, so an operator that kept something outside its stores, or that
// depends on store order, shows it.

export function takeOver<C>(
  def: AnyNodeDefinition,
  config: unknown,
  from: { stores: Map<string, MemoryStateStore> },
  options: TestContextOptions = {},
): RuntimeContext<C> & { stores: Map<string, MemoryStateStore> } {
  const ctx = testContext<C>(def, config, options);
  for (const [name, store] of from.stores) {
    const target = ctx.state(name);
    for (const [key, value] of [...store.entries()].reverse()) target.set(key, JSON.parse(JSON.stringify(value)));
  }
  return ctx;
}
