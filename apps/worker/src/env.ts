import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { parseSecretKey } from "@sluice/pipeline/control/secret-box";
import { parseDuration } from "@sluice/pipeline/duration";
import { z } from "zod";

// Everything the worker reads from its environment, validated once at start-up.

const EnvSchema = z.object({
  REDIS_URL: z.string().default("redis://127.0.0.1:6379"),
  SLUICE_REDIS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.:-]{1,64}$/, "letters, digits, '_', '.', ':' and '-' only")
    .default("sluice"),
  SLUICE_WORKER_ID: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,100}$/, "letters, digits, '_', '.' and '-' only")
    .optional(),
  SLUICE_WORKER_SLOTS: z.coerce.number().int().min(1).max(10_000).default(64),
  SLUICE_LEASE_TIMEOUT: z
    .string()
    .default("10s")
    .refine((v) => (parseDuration(v) ?? 0) >= 1000, "a duration of at least 1s, e.g. 10s"),
  SLUICE_LOG_LEVEL: z.enum(["debug", "info", "warn", "error"]).default("info"),
  SLUICE_SECRET_KEY: z.string().optional(),
  SLUICE_REDIS_CLUSTER: z.enum(["true", "false", "1", "0", ""]).default("false"),
});

export interface WorkerEnv {
  redisUrl: string;
  prefix: string;
  workerId: string;
  slots: number;
  leaseMs: number;
  logLevel: "debug" | "info" | "warn" | "error";
  /** Opens the connections of runs that use them; without it such runs fail with a clear reason. */
  secretKey: Uint8Array | undefined;
  /** REDIS_URL is one node of a Redis Cluster. */
  redisCluster: boolean;
}

export class EnvError extends Error {
  override name = "EnvError";
}

function secretKey(text: string): Uint8Array {
  try {
    return parseSecretKey(text);
  } catch (err) {
    throw new EnvError((err as Error).message);
  }
}

export function readWorkerEnv(source: NodeJS.ProcessEnv = process.env): WorkerEnv {
  const parsed = EnvSchema.safeParse(source);
  if (!parsed.success) {
    const first = parsed.error.issues[0]!;
    throw new EnvError(`${first.path.join(".")}: ${first.message}`);
  }
  const e = parsed.data;
  return {
    redisUrl: e.REDIS_URL,
    prefix: e.SLUICE_REDIS_PREFIX,
    workerId: e.SLUICE_WORKER_ID ?? `${hostname()}-${process.pid}-${randomBytes(3).toString("hex")}`,
    slots: e.SLUICE_WORKER_SLOTS,
    leaseMs: parseDuration(e.SLUICE_LEASE_TIMEOUT)!,
    logLevel: e.SLUICE_LOG_LEVEL,
    secretKey: e.SLUICE_SECRET_KEY === undefined ? undefined : secretKey(e.SLUICE_SECRET_KEY),
    redisCluster: e.SLUICE_REDIS_CLUSTER === "true" || e.SLUICE_REDIS_CLUSTER === "1",
  };
}
