// The config a node starts with when it is dropped on the canvas. Zod-free: the editor's first-load bundle uses it.

/** Required text fields start empty, so validation asks for each by its own message; defaults stay implicit. */
export function initialConfig(jsonSchema: Record<string, unknown>): Record<string, unknown> {
  const props = jsonSchema.properties as Record<string, { type?: unknown; default?: unknown }> | undefined;
  const required = Array.isArray(jsonSchema.required) ? (jsonSchema.required as string[]) : [];
  const config: Record<string, unknown> = {};
  for (const name of required) {
    const p = props?.[name];
    if (p && p.type === "string" && p.default === undefined) config[name] = "";
  }
  return config;
}
