import { parseSecretKey, SecretKeyError } from "@sluice/pipeline/control/secret-box";
import { z } from "zod";

// Everything the web server reads from its environment, validated once. The only place that touches process.env
// (apart from NEXT_RUNTIME, which Next itself inlines).

const booleanFlag = z
  .enum(["true", "false", "1", "0", "yes", "no", ""])
  .default("false")
  .transform((v) => v === "true" || v === "1" || v === "yes");

const EnvSchema = z.object({
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, "a PostgreSQL URL like postgresql://user@host:5432/db")
    .default("postgresql://postgres@127.0.0.1:5432/sluice"),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, "a Redis URL like redis://127.0.0.1:6379")
    .default("redis://127.0.0.1:6379"),
  SLUICE_REDIS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.:-]{1,64}$/, "letters, digits, '_', '.', ':' and '-' only (at most 64)")
    .default("sluice"),
  SLUICE_COOKIE_SECURE: booleanFlag,
  SLUICE_REDIS_CLUSTER: booleanFlag,
  SLUICE_SECRET_KEY: z.string().optional(),
});

export interface WebEnv {
  databaseUrl: string;
  redisUrl: string;
  redisPrefix: string;
  secureCookies: boolean;
  /** REDIS_URL is one node of a Redis Cluster. */
  redisCluster: boolean;
  /** Seals connection secrets and the connections runs take to the workers; the workers need the same key. */
  secretKey: Uint8Array | undefined;
}

export class EnvError extends Error {
  override name = "EnvError";
}

function secretKey(text: string | undefined): Uint8Array | undefined {
  if (text === undefined) return undefined;
  try {
    return parseSecretKey(text);
  } catch (err) {
    if (!(err instanceof SecretKeyError)) throw err;
    // parseSecretKey's message names the variable; never echo the value.
    throw new EnvError(`invalid environment for the Sluice web app: ${err.message}`);
  }
}

export function readWebEnv(source: Record<string, string | undefined> = process.env): WebEnv {
  const parsed = EnvSchema.safeParse(source);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
    throw new EnvError(`invalid environment for the Sluice web app: ${problems}`);
  }
  const e = parsed.data;
  return {
    secretKey: secretKey(e.SLUICE_SECRET_KEY),
    databaseUrl: e.DATABASE_URL,
    redisUrl: e.REDIS_URL,
    redisPrefix: e.SLUICE_REDIS_PREFIX,
    secureCookies: e.SLUICE_COOKIE_SECURE,
    redisCluster: e.SLUICE_REDIS_CLUSTER,
  };
}
