import type { AnyConnectionTypeDefinition } from "@sluice/pipeline/connection-definition";
import type { z } from "zod";
import type { RuntimeContext } from "../../runtime-contract";
import { NodeConfigError } from "../../runtime-expressions";

/**
 * The run's connection named by the node's `field`, parsed by its type's schema (defaults filled in, as the form
 * would), or a NodeConfigError naming what is wrong with it — never its values, which may be secret.
 */
export function resolveConnection<S extends z.ZodType>(
  ctx: RuntimeContext<unknown>,
  name: string,
  def: AnyConnectionTypeDefinition & { config: S },
  field = "connection",
): z.output<S> {
  const raw = ctx.services.connections.get<Record<string, unknown>>(name, def.type);
  const parsed = def.config.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".") || "config"}: ${i.message}`).join("; ");
    throw new NodeConfigError(
      ctx.nodeId,
      field,
      `connection "${name}" is not a valid ${def.title} connection: ${problems}`,
    );
  }
  return parsed.data as z.output<S>;
}
