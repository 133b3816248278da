import {
  type KeyTally,
  type PlaceCounts,
  type RotationReport,
  rotateSecretKey,
  type SealedProblem,
  type SecretCensus,
  type SecretRotationDeps,
  secretCensus,
} from "@sluice/api/connections/secret-rotation";
import { createDb, type Db } from "@sluice/db/client";
import { parsePostgresUrl } from "@sluice/db/postgres-url";
import { connectRedis, pingRedis, RedisUrlError } from "@sluice/engine/redis-connection";
import { createKeys } from "@sluice/pipeline/control/keys";
import { parseSecretKeyring, SecretKeyError, type SecretKeyring } from "@sluice/pipeline/control/secret-box";
import { EXIT, type Output } from "../io";

// `sluice secrets status` and `sluice secrets rotate`: the operator's side of rotating SLUICE_SECRET_KEY while the
// web app and the workers keep running (see docs/security.md, "Rotating the secret key"). Both read the web app's
// database and the fleet's Redis with the keys in SLUICE_SECRET_KEY and SLUICE_SECRET_KEY_PREVIOUS, and print
// counts and key ids, never a secret.

export interface SecretsOptions {
  action: "status" | "rotate";
  json: boolean;
  batchSize: number;
  /** The Redis key prefix; SLUICE_REDIS_PREFIX or "sluice" when not given. */
  prefix?: string | undefined;
  /** DATABASE_URL, REDIS_URL, SLUICE_REDIS_PREFIX, SLUICE_REDIS_CLUSTER, SLUICE_SECRET_KEY(_PREVIOUS). */
  env: Readonly<Record<string, string | undefined>>;
}

class ConfigError extends Error {
  override name = "ConfigError";
}

function keyring(env: SecretsOptions["env"]): SecretKeyring {
  const ring = parseSecretKeyring(env.SLUICE_SECRET_KEY, env.SLUICE_SECRET_KEY_PREVIOUS);
  if (!ring) {
    throw new ConfigError(
      "SLUICE_SECRET_KEY is not set: give it the key to seal with from now on, and the key used so far in SLUICE_SECRET_KEY_PREVIOUS",
    );
  }
  return ring;
}

function databaseUrl(env: SecretsOptions["env"]): string {
  const url = env.DATABASE_URL;
  if (!url) throw new ConfigError("DATABASE_URL is not set: give it the web app's database, where connections live");
  try {
    parsePostgresUrl(url);
  } catch (err) {
    // Its only errors say what is wrong with the URL, naming DATABASE_URL, not its password.
    throw new ConfigError((err as Error).message);
  }
  return url;
}

async function reachDatabase(db: Db, url: string): Promise<void> {
  try {
    await db.$queryRaw`SELECT 1`;
  } catch (err) {
    const { host, port } = parsePostgresUrl(url);
    const code = (err as { code?: string }).code;
    throw new ConfigError(`cannot reach PostgreSQL at ${host}:${port}${code ? ` (${code})` : ""}; check DATABASE_URL`);
  }
}

const plural = (n: number, one: string, many = `${one}s`) => `${n.toLocaleString("en-US")} ${n === 1 ? one : many}`;

function counts(c: PlaceCounts): string {
  return [plural(c.connections, "connection"), plural(c.runs, "run"), plural(c.jobs, "job")].join(", ");
}

const total = (c: PlaceCounts) => c.connections + c.runs + c.jobs;

function problemLines(title: string, problems: readonly SealedProblem[]): string[] {
  return problems.length === 0 ? [] : [title, ...problems.map((p) => `  ${p.label}: ${p.message}`)];
}

function table(tallies: readonly KeyTally[]): string {
  const header = ["key id", "key", "connections", "runs", "jobs"];
  const rows = tallies.map((t) => [t.keyId ?? "-", t.role, String(t.connections), String(t.runs), String(t.jobs)]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  return [line(header), ...rows.map(line)].join("\n");
}

function ringLine(current: string, previous: readonly string[]): string {
  return `current key ${current} (SLUICE_SECRET_KEY)${previous.length > 0 ? `; previous keys ${previous.join(", ")} (SLUICE_SECRET_KEY_PREVIOUS)` : ""}`;
}

/** The census as text, and whether everything is under the current key and opens. */
function describeCensus(c: SecretCensus): { text: string; done: boolean } {
  const current = c.tallies.find((t) => t.role === "current")!;
  const left = c.tallies.filter((t) => t.role !== "current").reduce((n, t) => n + total(t), 0);
  const lines = [ringLine(c.currentKeyId, c.previousKeyIds), table(c.tallies)];
  if (left === 0 && c.problems.length === 0) {
    lines.push(
      `every sealed value (${total(current)}) is under the current key ${c.currentKeyId}` +
        (c.previousKeyIds.length > 0 ? ": the previous keys are no longer needed" : ""),
    );
  } else if (left > 0) {
    lines.push(`${plural(left, "sealed value")} not under the current key: \`sluice secrets rotate\` re-seals them`);
  }
  lines.push(...problemLines("cannot be opened with the keys given:", c.problems));
  return { text: lines.join("\n"), done: left === 0 && c.problems.length === 0 };
}

function describeRotation(r: RotationReport): string {
  const lines = [
    ringLine(r.currentKeyId, r.previousKeyIds),
    `re-sealed under key ${r.currentKeyId}: ${counts(r.resealed)}`,
    `already under it: ${counts(r.alreadyCurrent)}`,
  ];
  if (r.reread > 0 || r.vanished > 0) {
    lines.push(`changed during the rotation and read again: ${r.reread}; removed meanwhile: ${r.vanished}`);
  }
  lines.push(...problemLines("left as they were:", r.problems));
  lines.push(
    r.problems.length === 0
      ? "done: check with `sluice secrets status` once every process seals with the new key"
      : "the values above still need their key: add it to SLUICE_SECRET_KEY_PREVIOUS and run the rotation again, or enter those secrets anew",
  );
  return lines.join("\n");
}

function redisPrefix(options: SecretsOptions): string {
  const prefix = options.prefix ?? options.env.SLUICE_REDIS_PREFIX ?? "sluice";
  if (!/^[A-Za-z0-9_.:-]{1,64}$/.test(prefix)) {
    throw new ConfigError(
      "SLUICE_REDIS_PREFIX (or --prefix): letters, digits, '_', '.', ':' and '-' only (at most 64)",
    );
  }
  return prefix;
}

export async function secretsCommand(options: SecretsOptions, io: Output): Promise<number> {
  const { env } = options;
  let deps: SecretRotationDeps | undefined;
  try {
    const secretKey = keyring(env);
    const dbUrl = databaseUrl(env);
    const keys = createKeys(redisPrefix(options));
    const redisUrl = env.REDIS_URL ?? "redis://127.0.0.1:6379";
    const cluster = env.SLUICE_REDIS_CLUSTER === "true" || env.SLUICE_REDIS_CLUSTER === "1";
    await pingRedis(redisUrl, 3000, { cluster });
    deps = {
      db: createDb(dbUrl, { poolSize: 4 }),
      redis: connectRedis(redisUrl, "sluice-secrets", (m) => io.err(m), { cluster }),
      keys,
      secretKey,
    };
    await reachDatabase(deps.db, dbUrl);
    if (options.action === "status") {
      const census = await secretCensus(deps, { batchSize: options.batchSize });
      const { text, done } = describeCensus(census);
      io.out(options.json ? JSON.stringify(census, null, 2) : text);
      return done ? EXIT.ok : EXIT.invalid;
    }
    const report = await rotateSecretKey(deps, { batchSize: options.batchSize });
    io.out(options.json ? JSON.stringify(report, null, 2) : describeRotation(report));
    return report.problems.length === 0 ? EXIT.ok : EXIT.invalid;
  } catch (err) {
    if (err instanceof ConfigError || err instanceof SecretKeyError || err instanceof RedisUrlError) {
      io.err(`sluice secrets: ${err.message}`);
      return EXIT.unreadable;
    }
    throw err;
  } finally {
    await deps?.db.$disconnect().catch(() => {});
    deps?.redis.disconnect();
  }
}
