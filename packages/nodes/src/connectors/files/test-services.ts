import {
  createRuntimeRegistry,
  type NodeRuntime,
  type RuntimeContext,
  type RuntimeRegistry,
  type SourceOffset,
} from "../../runtime-contract";

// Test support until the engine hands runtimes the services the connectors ask for (see runtime-contract-requests.ts
// and files-root.ts): a registry whose runtimes see `extra` merged into ctx.services, exactly as they would from the
// engine, and everything else unchanged.

export function withServices(
  base: RuntimeRegistry,
  types: readonly string[],
  extra: Record<string, unknown> | ((ctx: RuntimeContext<unknown>) => Record<string, unknown>),
): RuntimeRegistry {
  const wrap = (ctx: RuntimeContext<never>): RuntimeContext<never> => {
    const more = typeof extra === "function" ? extra(ctx as RuntimeContext<unknown>) : extra;
    return { ...ctx, services: { ...ctx.services, ...more } };
  };
  const wrapped: NodeRuntime[] = types.map((type) => {
    const r = base.get(type);
    if (!r) throw new Error(`no runtime for ${type}`);
    if (r.kind === "source") {
      return { ...r, open: (ctx: RuntimeContext<never>, from: SourceOffset | null) => r.open(wrap(ctx), from) };
    }
    if (r.kind === "sink") return { ...r, open: (ctx: RuntimeContext<never>) => r.open(wrap(ctx)) };
    return { ...r, create: (ctx: RuntimeContext<never>) => r.create(wrap(ctx)) };
  });
  const override = createRuntimeRegistry(wrapped);
  return { get: (type) => override.get(type) ?? base.get(type) };
}
