import { readFile } from "node:fs/promises";
import type { ConnectionBundle } from "@sluice/nodes/runtime-contract";
import { configJsonSchema } from "@sluice/pipeline/config-schema";
import type { ConnectionCatalog } from "@sluice/pipeline/connection-definition";
import { formatFromName, parsePipelineText } from "@sluice/pipeline/file-format";
import { closestName } from "@sluice/pipeline/suggest";

// `sluice run --connections FILE`: the connections a headless run may use, without the web app's database.
//
//   warehouse:
//     type: postgres
//     host: db.internal
//     password: ${PG_PASSWORD}
//
// `${NAME}` is replaced by the environment variable NAME (a missing one is an error naming it; `$${` writes a
// literal `${`), after the file is parsed, so a value with YAML's special characters cannot change the file's
// structure. A whole value `${NAME}` in a number or boolean field becomes a number or boolean.

export type ConnectionsFileResult =
  | { ok: true; bundle: ConnectionBundle }
  /** `unreadable`: the file could not be read or parsed, rather than saying something wrong. */
  | { ok: false; problems: string[]; unreadable?: boolean };

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const REF = /\$(\$?)\{([^}]*)\}/g;
const WHOLE = /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$/;

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** Replaces ${NAME} in every string of `value`; reports each missing or malformed reference at its path. */
function interpolate(
  value: unknown,
  env: Readonly<Record<string, string | undefined>>,
  path: string,
  problems: string[],
): unknown {
  if (typeof value === "string") {
    return value.replace(REF, (text, escaped: string, name: string) => {
      if (escaped) return text.slice(1);
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
        problems.push(`${path}: "\${${name}}" is not an environment variable name`);
        return text;
      }
      const v = env[name];
      if (v === undefined) {
        problems.push(`${path}: the environment variable ${name} is not set`);
        return text;
      }
      return v;
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => interpolate(v, env, `${path}.${i}`, problems));
  if (isObject(value)) {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, interpolate(v, env, `${path}.${k}`, problems)]),
    );
  }
  return value;
}

/** A whole-value reference in a field the type declares a number or boolean: the text becomes that type. */
function typed(raw: unknown, interpolated: unknown, fieldType: unknown): unknown {
  if (typeof raw !== "string" || !WHOLE.test(raw) || typeof interpolated !== "string") return interpolated;
  const types = Array.isArray(fieldType) ? fieldType : [fieldType];
  const text = interpolated.trim();
  if ((types.includes("number") || types.includes("integer")) && text !== "" && Number.isFinite(Number(text)))
    return Number(text);
  if (types.includes("boolean") && (text === "true" || text === "false")) return text === "true";
  return interpolated;
}

/** Parses, interpolates and checks a connections file against the connection types; problems name file, connection and field. */
export function parseConnections(
  file: string,
  value: unknown,
  env: Readonly<Record<string, string | undefined>>,
  types: ConnectionCatalog,
): ConnectionsFileResult {
  if (!isObject(value)) {
    return { ok: false, problems: [`${file}: expected a mapping of connection names to their settings`] };
  }
  const problems: string[] = [];
  const bundle: ConnectionBundle = {};
  for (const [name, entry] of Object.entries(value)) {
    const at = `${file}: connection "${name}"`;
    if (!NAME.test(name)) {
      problems.push(`${at}: use letters, digits, '_', '.' and '-' in the name (starting with a letter or digit)`);
      continue;
    }
    if (!isObject(entry)) {
      problems.push(`${at}: expected its settings, e.g. { type: postgres, host: … }`);
      continue;
    }
    const { type, ...raw } = entry;
    if (typeof type !== "string") {
      problems.push(
        `${at}: type: say which kind of connection it is (${
          types
            .list()
            .map((d) => d.type)
            .join(", ") || "none known"
        })`,
      );
      continue;
    }
    const def = types.get(type);
    if (!def) {
      const suggestion = closestName(
        type,
        types.list().map((d) => d.type),
      );
      problems.push(
        `${at}: type: unknown connection type "${type}"${suggestion ? ` (did you mean "${suggestion}"?)` : ""}`,
      );
      continue;
    }
    const missing: string[] = [];
    const properties = configJsonSchema(def).properties ?? {};
    const config: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(raw)) {
      config[key] = typed(v, interpolate(v, env, key, missing), properties[key]?.type);
    }
    if (missing.length > 0) {
      problems.push(...missing.map((m) => `${at}: ${m}`));
      continue;
    }
    const parsed = def.config.safeParse(config);
    if (!parsed.success) {
      // zod's messages name the expected type, never the value given: nothing secret is printed.
      for (const issue of parsed.error.issues) {
        const field = issue.path.length > 0 ? issue.path.map(String).join(".") : "settings";
        problems.push(`${at}: ${field}: ${issue.message}`);
      }
      continue;
    }
    bundle[name] = { type: def.type, config: parsed.data as Record<string, unknown> };
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, bundle };
}

export async function readConnectionsFile(
  file: string,
  env: Readonly<Record<string, string | undefined>>,
  types: ConnectionCatalog,
): Promise<ConnectionsFileResult> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason = code === "ENOENT" ? "no such file" : code === "EISDIR" ? "is a directory" : (err as Error).message;
    return { ok: false, problems: [`${file}: ${reason}`], unreadable: true };
  }
  const parsed = parsePipelineText(text, formatFromName(file));
  if (!parsed.ok) {
    const e = parsed.error;
    return {
      ok: false,
      problems: [`${file}${e.line !== undefined ? `:${e.line}:${e.column ?? 1}` : ""}: ${e.message}`],
      unreadable: true,
    };
  }
  return parseConnections(file, parsed.value ?? {}, env, types);
}
