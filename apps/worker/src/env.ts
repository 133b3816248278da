import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import path from "node:path";
import { DEFAULT_CRASH_LIMIT } from "@sluice/engine/partition-crashes";
import { LOG_LEVELS, type LogLevel, type LogSettings, LogSettingsError, readLogSettings } from "@sluice/log/logger";
import { DestinationPolicyError, parseAllowList } from "@sluice/nodes/destination-policy";
import { RunRetentionSetting } from "@sluice/pipeline/control/run-state";
import { parseSecretKeyring, type SecretKeyring } from "@sluice/pipeline/control/secret-box";
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
  SLUICE_SECRET_KEY: z.string().optional(),
  SLUICE_SECRET_KEY_PREVIOUS: z.string().optional(),
  SLUICE_CONNECTIONS_ALLOW: z.string().optional(),
  SLUICE_REDIS_CLUSTER: z.enum(["true", "false", "1", "0", ""]).default("false"),
  SLUICE_TASK_CRASH_LIMIT: z.coerce.number().int().min(1).max(100).default(DEFAULT_CRASH_LIMIT),
  SLUICE_FILES_DIR: z.string().min(1, "a folder").default(".sluice/files"),
  SLUICE_PREVIEW_TIMEOUT: z
    .string()
    .default("20s")
    .refine((v) => {
      const ms = parseDuration(v) ?? 0;
      return ms >= 1000 && ms <= 60_000;
    }, "a duration from 1s to 60s, e.g. 20s"),
  SLUICE_PREVIEW_MEMORY_MB: z.coerce
    .number()
    .int("a whole number of MiB")
    .min(64, "at least 64 (MiB)")
    .max(16_384, "at most 16384 (MiB)")
    .default(256),
  SLUICE_RUN_RETENTION: RunRetentionSetting,
  SLUICE_NODE_FIGURES: z.enum(["on", "off"], "on or off").default("on"),
  SLUICE_RUN_LOG_LEVEL: z.enum(LOG_LEVELS, `one of ${LOG_LEVELS.join(", ")}`).default("info"),
});

export interface WorkerEnv {
  redisUrl: string;
  prefix: string;
  workerId: string;
  slots: number;
  leaseMs: number;
  /** SLUICE_LOG_LEVEL and SLUICE_LOG_FORMAT. */
  log: LogSettings;
  /**
   * SLUICE_SECRET_KEY and SLUICE_SECRET_KEY_PREVIOUS: open the connections of runs that use them, whichever of the
   * keys sealed them; without them such runs fail with a clear reason.
   */
  secretKey: SecretKeyring | undefined;
  /** REDIS_URL is one node of a Redis Cluster. */
  redisCluster: boolean;
  /**
   * SLUICE_CONNECTIONS_ALLOW, checked: loopback, link-local and metadata ranges connections may reach after all
   * (the fleet's Redis, and the web app's database sealed with each run, stay refused).
   */
  connectionsAllow: string | undefined;
  /** A partition that stops its worker this many times in a row without finishing a batch fails its run. */
  crashLimit: number;
  /** The files directory (absolute) file nodes work in; each workspace's runs get their own folder in it. */
  filesDir: string;
  /** The longest a data preview may run on this worker before its thread is stopped. */
  previewTimeoutMs: number;
  /** The heap a data preview's thread may use, in MiB, before it is stopped. */
  previewMemoryMb: number;
  /** How long a finished run's Redis keys are kept (SLUICE_RUN_RETENTION), in ms. */
  runRetentionMs: number;
  /** Publish per-second node figures (SLUICE_NODE_FIGURES). */
  nodeFigures: boolean;
  /** Lines about a run kept in the run's log from this level up (SLUICE_RUN_LOG_LEVEL); silent keeps none. */
  runLogLevel: LogLevel;
}

class EnvError extends Error {
  override name = "EnvError";
}

function connectionsAllow(text: string | undefined): string | undefined {
  try {
    parseAllowList(text);
  } catch (err) {
    if (err instanceof DestinationPolicyError) throw new EnvError(err.message);
    throw err;
  }
  return text;
}

function logSettings(source: NodeJS.ProcessEnv): LogSettings {
  try {
    return readLogSettings(source);
  } catch (err) {
    if (err instanceof LogSettingsError) throw new EnvError(err.message);
    throw err;
  }
}

function secretKey(current: string | undefined, previous: string | undefined): SecretKeyring | undefined {
  try {
    return parseSecretKeyring(current, previous);
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
    log: logSettings(source),
    secretKey: secretKey(e.SLUICE_SECRET_KEY, e.SLUICE_SECRET_KEY_PREVIOUS),
    redisCluster: e.SLUICE_REDIS_CLUSTER === "true" || e.SLUICE_REDIS_CLUSTER === "1",
    connectionsAllow: connectionsAllow(e.SLUICE_CONNECTIONS_ALLOW),
    crashLimit: e.SLUICE_TASK_CRASH_LIMIT,
    filesDir: path.resolve(e.SLUICE_FILES_DIR),
    previewTimeoutMs: parseDuration(e.SLUICE_PREVIEW_TIMEOUT)!,
    previewMemoryMb: e.SLUICE_PREVIEW_MEMORY_MB,
    runRetentionMs: e.SLUICE_RUN_RETENTION,
    nodeFigures: e.SLUICE_NODE_FIGURES === "on",
    runLogLevel: e.SLUICE_RUN_LOG_LEVEL,
  };
}
