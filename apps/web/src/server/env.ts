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
  SLUICE_INGEST_MAX_BODY: z.coerce
    .number({ error: "a number of bytes" })
    .int("a whole number of bytes")
    .min(1024, "at least 1024 bytes")
    .max(1024 ** 3, "at most 1 GiB (1073741824)")
    .default(8 * 1024 * 1024),
  SLUICE_INGEST_MAX_BACKLOG: z.coerce
    .number({ error: "a number of records" })
    .int("a whole number of records")
    .min(1, "at least 1 record")
    .max(1_000_000_000, "at most 1000000000 records")
    .default(1_000_000),
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
  /** Largest webhook request body, in bytes. */
  ingestMaxBody: number;
  /** Records posted to a pipeline and not yet read above which its ingest URL answers 503. */
  ingestMaxBacklog: number;
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
    ingestMaxBody: e.SLUICE_INGEST_MAX_BODY,
    ingestMaxBacklog: e.SLUICE_INGEST_MAX_BACKLOG,
  };
}
