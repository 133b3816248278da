import { AuditRetentionSetting } from "@sluice/api/audit/audit-log";
import { type HistoryRetention, HistoryRetentionSetting } from "@sluice/api/history/history-retention";
import {
  DEFAULT_RATE_LIMITS,
  parseRateLimitRule,
  type RateLimitRule,
  type RateLimitSettings,
} from "@sluice/api/limits/rate-limit-rule";
import { type LogSettings, LogSettingsError, readLogSettings } from "@sluice/log/logger";
import { DestinationPolicyError, parseAllowList } from "@sluice/nodes/destination-policy";
import { RunRetentionSetting } from "@sluice/pipeline/control/run-state";
import { parseSecretKeyring, SecretKeyError, type SecretKeyring } from "@sluice/pipeline/control/secret-box";
import { z } from "zod";

// Everything the web server reads from its environment, validated once. The only place that touches process.env
// (apart from NEXT_RUNTIME, which Next itself inlines).

const booleanFlag = z
  .enum(["true", "false", "1", "0", "yes", "no", ""])
  .default("false")
  .transform((v) => v === "true" || v === "1" || v === "yes");

/** A rate limit written `<calls>/<duration>`, e.g. `10/15m`; unset keeps DEFAULT_RATE_LIMITS' rule. */
const rateRule = z
  .string()
  .optional()
  .transform((text, ctx) => {
    if (text === undefined) return undefined;
    const rule = parseRateLimitRule(text);
    if (typeof rule === "string") {
      ctx.addIssue({ code: "custom", message: rule });
      return z.NEVER;
    }
    return rule;
  });

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
  SLUICE_SECRET_KEY_PREVIOUS: z.string().optional(),
  SLUICE_CONNECTIONS_ALLOW: z.string().optional(),
  SLUICE_INGEST_MAX_BODY: z.coerce
    .number({ error: "a number of bytes" })
    .int("a whole number of bytes")
    .min(1024, "at least 1024 bytes")
    .max(1024 ** 3, "at most 1 GiB (1073741824)")
    .default(8 * 1024 * 1024),
  SLUICE_API_MAX_BODY: z.coerce
    .number({ error: "a number of bytes" })
    .int("a whole number of bytes")
    .min(64 * 1024, "at least 65536 bytes")
    .max(256 * 1024 * 1024, "at most 256 MiB (268435456)")
    .default(2 * 1024 * 1024),
  SLUICE_RATE_SIGNIN_EMAIL: rateRule,
  SLUICE_RATE_SIGNIN_IP: rateRule,
  SLUICE_RATE_SIGNUP_IP: rateRule,
  SLUICE_RATE_INGEST: rateRule,
  SLUICE_RATE_API_TOKEN: rateRule,
  SLUICE_TRUSTED_PROXIES: z.coerce
    .number({ error: "a number of proxies" })
    .int("a whole number of proxies")
    .min(0, "0 or more")
    .max(10, "at most 10")
    .default(0),
  NODE_ENV: z.string().optional(),
  SLUICE_INGEST_MAX_BACKLOG: z.coerce
    .number({ error: "a number of records" })
    .int("a whole number of records")
    .min(1, "at least 1 record")
    .max(1_000_000_000, "at most 1000000000 records")
    .default(1_000_000),
  SLUICE_RUN_RETENTION: RunRetentionSetting,
  SLUICE_HISTORY_RETENTION: HistoryRetentionSetting,
  SLUICE_AUDIT_RETENTION: AuditRetentionSetting,
  SLUICE_FILES_DIR: z.string().min(1).max(4096).optional(),
  SLUICE_METRICS_TOKEN: z
    .string()
    .regex(/^\S{32,512}$/, "at least 32 characters without spaces (e.g. openssl rand -hex 32)")
    .optional(),
});

export interface WebEnv {
  databaseUrl: string;
  redisUrl: string;
  redisPrefix: string;
  secureCookies: boolean;
  /** REDIS_URL is one node of a Redis Cluster. */
  redisCluster: boolean;
  /**
   * Seals connection secrets and the connections runs take to the workers under SLUICE_SECRET_KEY, and opens what
   * it or a key of SLUICE_SECRET_KEY_PREVIOUS sealed; the workers need the same keys.
   */
  secretKey: SecretKeyring | undefined;
  /**
   * SLUICE_CONNECTIONS_ALLOW, checked: the loopback, link-local and metadata ranges (CIDR, optional port) connections
   * may reach after all. Sluice's own database and Redis stay refused whatever it says.
   */
  connectionsAllow: string | undefined;
  /** Largest webhook request body, in bytes. */
  ingestMaxBody: number;
  /** Records posted to a pipeline and not yet read above which its ingest URL answers 503. */
  ingestMaxBacklog: number;
  /** Largest tRPC request body, in bytes (SLUICE_API_MAX_BODY). */
  apiMaxBody: number;
  /** Sign-in, sign-up, ingest and API token rate limits (SLUICE_RATE_*). */
  rateLimits: RateLimitSettings;
  /** How long a finished run's Redis state is kept (SLUICE_RUN_RETENTION), in ms; the workers need the same. */
  runRetentionMs: number;
  /** How long node-figure history is kept at each resolution (SLUICE_HISTORY_RETENTION), in ms. */
  historyRetention: HistoryRetention;
  /** How long workspace audit entries are kept (SLUICE_AUDIT_RETENTION), in ms. */
  auditRetentionMs: number;
  /** The files directory the workers write in (SLUICE_FILES_DIR), which the query page reads; undefined: the default. */
  filesDir: string | undefined;
  /** Reverse proxies in front that append to X-Forwarded-For; decides which entry is the client's address. */
  trustedProxies: number;
  /** `next dev`: the pages' CSP allows eval, which React needs there. */
  dev: boolean;
  /** SLUICE_LOG_LEVEL and SLUICE_LOG_FORMAT. */
  log: LogSettings;
  /** The bearer token GET /api/metrics asks for (SLUICE_METRICS_TOKEN); unset, the endpoint is off. */
  metricsToken: string | undefined;
}

export class EnvError extends Error {
  override name = "EnvError";
}

function connectionsAllow(text: string | undefined): string | undefined {
  try {
    parseAllowList(text);
  } catch (err) {
    if (!(err instanceof DestinationPolicyError)) throw err;
    throw new EnvError(`invalid environment for the Sluice web app: ${err.message}`);
  }
  return text;
}

function logSettings(source: Record<string, string | undefined>): LogSettings {
  try {
    return readLogSettings(source);
  } catch (err) {
    if (!(err instanceof LogSettingsError)) throw err;
    throw new EnvError(`invalid environment for the Sluice web app: ${err.message}`);
  }
}

function secretKey(current: string | undefined, previous: string | undefined): SecretKeyring | undefined {
  try {
    return parseSecretKeyring(current, previous);
  } catch (err) {
    if (!(err instanceof SecretKeyError)) throw err;
    // Its messages name the variable (and the key's place in SLUICE_SECRET_KEY_PREVIOUS), never the value.
    throw new EnvError(`invalid environment for the Sluice web app: ${err.message}`);
  }
}

/** The rules set in the environment over the defaults. */
function rateLimits(set: Record<keyof RateLimitSettings, RateLimitRule | undefined>): RateLimitSettings {
  const given: Partial<RateLimitSettings> = Object.fromEntries(
    Object.entries(set).filter(([, rule]) => rule !== undefined),
  );
  return { ...DEFAULT_RATE_LIMITS, ...given };
}

export function readWebEnv(source: Record<string, string | undefined> = process.env): WebEnv {
  const parsed = EnvSchema.safeParse(source);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
    throw new EnvError(`invalid environment for the Sluice web app: ${problems}`);
  }
  const e = parsed.data;
  return {
    secretKey: secretKey(e.SLUICE_SECRET_KEY, e.SLUICE_SECRET_KEY_PREVIOUS),
    connectionsAllow: connectionsAllow(e.SLUICE_CONNECTIONS_ALLOW),
    databaseUrl: e.DATABASE_URL,
    redisUrl: e.REDIS_URL,
    redisPrefix: e.SLUICE_REDIS_PREFIX,
    secureCookies: e.SLUICE_COOKIE_SECURE,
    redisCluster: e.SLUICE_REDIS_CLUSTER,
    ingestMaxBody: e.SLUICE_INGEST_MAX_BODY,
    ingestMaxBacklog: e.SLUICE_INGEST_MAX_BACKLOG,
    apiMaxBody: e.SLUICE_API_MAX_BODY,
    rateLimits: rateLimits({
      signInPerEmail: e.SLUICE_RATE_SIGNIN_EMAIL,
      signInPerAddress: e.SLUICE_RATE_SIGNIN_IP,
      signUpPerAddress: e.SLUICE_RATE_SIGNUP_IP,
      ingestPerToken: e.SLUICE_RATE_INGEST,
      apiPerToken: e.SLUICE_RATE_API_TOKEN,
    }),
    trustedProxies: e.SLUICE_TRUSTED_PROXIES,
    runRetentionMs: e.SLUICE_RUN_RETENTION,
    historyRetention: e.SLUICE_HISTORY_RETENTION,
    auditRetentionMs: e.SLUICE_AUDIT_RETENTION,
    filesDir: e.SLUICE_FILES_DIR,
    dev: e.NODE_ENV === "development",
    log: logSettings(source),
    metricsToken: e.SLUICE_METRICS_TOKEN,
  };
}

let current: WebEnv | undefined;

/** This process's environment, read and validated once. */
export function webEnv(): WebEnv {
  current ??= readWebEnv();
  return current;
}
