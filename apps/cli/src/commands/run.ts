import { randomBytes } from "node:crypto";
import { FleetWorker } from "@sluice/engine/fleet-worker";
import { checkRedisUrl, connectRedis, RedisUrlError } from "@sluice/engine/redis-connection";
import { createLogger, type LogSettings, LogSettingsError, readLogSettings } from "@sluice/log/logger";
import { catalog as buildCatalog } from "@sluice/nodes/catalog";
import { connectionCatalog } from "@sluice/nodes/connections";
import {
  type IngestServer,
  installIngestToken,
  newIngestToken,
  serveIngest,
} from "@sluice/nodes/connectors/http/ingest-endpoint";
import { DestinationPolicy, DestinationPolicyError } from "@sluice/nodes/destination-policy";
import type { ConnectionBundle, RuntimeRegistry } from "@sluice/nodes/runtime-contract";
import { runtimes as buildRuntimes } from "@sluice/nodes/runtimes";
import { type ConnectionCatalog, connectionRefs } from "@sluice/pipeline/connection-definition";
import { createKeys } from "@sluice/pipeline/control/keys";
import {
  connectionsContext,
  QUEUE_CONTROL,
  type RunSnapshot,
  type RunStartJob,
} from "@sluice/pipeline/control/protocol";
import { readRunSnapshot } from "@sluice/pipeline/control/run-reader";
import { DEFAULT_RUN_RETENTION_MS, stopRun } from "@sluice/pipeline/control/run-state";
import { isTerminal } from "@sluice/pipeline/control/run-status";
import { parseSecretKey, SecretKeyError, sealJson } from "@sluice/pipeline/control/secret-box";
import { hasErrors } from "@sluice/pipeline/issues";
import type { NodeCatalog } from "@sluice/pipeline/node-definition";
import {
  ParameterError,
  type ParameterValue,
  parseParameterText,
  resolveParameterValues,
} from "@sluice/pipeline/parameters";
import { validate } from "@sluice/pipeline/validate";
import { Queue } from "bullmq";
import { readConnectionsFile } from "../connections-file";
import { EXIT, type Output, readPipelineFile } from "../io";
import { RedisRefusedError, redisAddress, redisWaitNotice, waitForRedis } from "../redis-wait";
import { formatIssueLine } from "./validate";

// `sluice run`: a pipeline without the web app, like `flink run` or `benthos -c`. Validates the file, starts N
// workers in this process on REDIS_URL (0: leave the work to a fleet already running there), starts the run and
// shows progress; a bounded run ends the command with exit 0 and per-node totals. Ctrl-C stops the run (drained
// and committed) before exiting; a second Ctrl-C exits at once.
//
// A pipeline with a Webhook source gets the web app's ingest endpoint from the command itself: it listens on
// --ingest-port, under the id `file-<pipeline name>` (stable, so records posted while no run reads them wait for the
// next one), with the token in SLUICE_INGEST_TOKEN or one made for this run, printed with the URL.
//
// With --connections FILE, the connections the pipeline names travel to the workers sealed (AES-256-GCM) with
// SLUICE_SECRET_KEY, the key a fleet of `sluice worker`s shares; without one, with a key made for this run that only
// the workers in this process get.

export interface RunOptions {
  file: string;
  workers: number;
  params: readonly string[];
  json: boolean;
  redisUrl: string;
  prefix: string;
  /** REDIS_URL is one node of a Redis Cluster. */
  cluster?: boolean;
  /** A YAML/JSON file of connections (see connections-file.ts). */
  connections?: string | undefined;
  /**
   * For ${NAME} in the connections file, SLUICE_SECRET_KEY, SLUICE_INGEST_TOKEN, SLUICE_CONNECTIONS_ALLOW and
   * DATABASE_URL (a database the run's connections may not reach).
   */
  env?: Readonly<Record<string, string | undefined>>;
  /** Where the webhook ingest endpoint listens when the pipeline has a Webhook source (0: any free port). */
  ingest?: { host?: string | undefined; port?: number | undefined };
}

/** The ingest endpoint's port when none is given: the web app's is 3000, so the next one but one. */
const DEFAULT_INGEST_PORT = 3002;

/** The node and connection types the command knows: this build's, unless a test gives its own. */
export interface RunTypes {
  catalog: NodeCatalog;
  runtimes: RuntimeRegistry;
  connectionTypes: ConnectionCatalog;
}

const buildTypes: RunTypes = { catalog: buildCatalog, runtimes: buildRuntimes, connectionTypes: connectionCatalog };

/** The connections the validated pipeline's nodes name, out of those the file gives. */
function usedConnections(
  definition: { spec: { nodes: readonly { id: string; type: string }[] } },
  configs: Readonly<Record<string, unknown>>,
  catalog: NodeCatalog,
  given: ConnectionBundle,
): ConnectionBundle {
  const used: ConnectionBundle = {};
  for (const node of definition.spec.nodes) {
    const def = catalog.get(node.type);
    if (!def) continue;
    for (const ref of connectionRefs(def, configs[node.id])) {
      const entry = Object.hasOwn(given, ref.name) ? given[ref.name] : undefined;
      if (entry) used[ref.name] = entry;
    }
  }
  return used;
}

/** The key to seal the run's connections with, or a message saying why there is none. */
function sealingKey(
  env: Readonly<Record<string, string | undefined>>,
  workers: number,
): { ok: true; key: Uint8Array } | { ok: false; message: string } {
  const text = env.SLUICE_SECRET_KEY;
  if (text !== undefined) {
    try {
      return { ok: true, key: parseSecretKey(text) };
    } catch (err) {
      if (err instanceof SecretKeyError) return { ok: false, message: err.message };
      throw err;
    }
  }
  if (workers === 0) {
    return {
      ok: false,
      message:
        "with --workers 0 the fleet's workers open the run's connections: set SLUICE_SECRET_KEY to the key they were started with",
    };
  }
  return { ok: true, key: crypto.getRandomValues(new Uint8Array(32)) };
}

const EXIT_INTERRUPTED = 130;

/** The ingest id of a pipeline run from a file: its name, in the characters an ingest id may hold. */
function filePipelineId(name: string): string {
  return `file-${name.replace(/[^A-Za-z0-9_-]/g, "_")}`.slice(0, 64);
}

const MIN_INGEST_TOKEN = 24;

function formatCount(n: number): string {
  return n.toLocaleString("en-US");
}

function bar(done: number, total: number, width = 24): string {
  const share = total > 0 ? Math.min(1, done / total) : 0;
  const filled = Math.round(share * width);
  return `[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${(share * 100).toFixed(1).padStart(5)}%`;
}

function progressLine(s: RunSnapshot, startedAt: number): string {
  const seconds = (Date.now() - startedAt) / 1000;
  const nodes = Object.entries(s.nodes)
    .map(([id, c]) => `${id} ${formatCount(c.out || c.in)}${c.errors ? ` (${formatCount(c.errors)} errors)` : ""}`)
    .join(" · ");
  const progress = s.progress ? `${bar(s.progress.done, s.progress.total)} ` : "";
  return `${progress}${s.status} ${seconds.toFixed(1)}s · ${nodes}`;
}

function totalsTable(s: RunSnapshot): string {
  const rows = Object.entries(s.nodes).map(([id, c]) => [
    id,
    formatCount(c.in),
    formatCount(c.out),
    formatCount(c.errors),
  ]);
  const header = ["node", "in", "out", "errors"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  return [line(header), ...rows.map(line)].join("\n");
}

export async function runCommand(
  options: RunOptions,
  io: Output,
  signals: NodeJS.EventEmitter = process,
  types: RunTypes = buildTypes,
): Promise<number> {
  const { catalog, runtimes } = types;
  const env = options.env ?? {};
  const read = await readPipelineFile(options.file);
  if (!read.ok) {
    io.err(read.message);
    return EXIT.unreadable;
  }
  const structure = validate(read.value, catalog);
  if (!structure.definition) {
    for (const i of structure.issues) io.err(formatIssueLine(options.file, i));
    return EXIT.invalid;
  }
  let parameters: Record<string, ParameterValue>;
  try {
    const given = Object.fromEntries(options.params.map((p) => parseParameterText(structure.definition!, p)));
    parameters = resolveParameterValues(structure.definition, given);
  } catch (err) {
    if (!(err instanceof ParameterError)) throw err;
    io.err(`${options.file}: ${err.message}`);
    return EXIT.invalid;
  }
  let given: ConnectionBundle = {};
  if (options.connections !== undefined) {
    const file = await readConnectionsFile(options.connections, env, types.connectionTypes);
    if (!file.ok) {
      for (const problem of file.problems) io.err(problem);
      return file.unreadable ? EXIT.unreadable : EXIT.invalid;
    }
    given = file.bundle;
  }
  const connections = Object.fromEntries(Object.entries(given).map(([name, c]) => [name, c.type]));
  const checked = validate(read.value, catalog, { parameters, connections });
  if (hasErrors(checked.issues)) {
    for (const i of checked.issues) io.err(formatIssueLine(options.file, i));
    if (options.connections === undefined && checked.issues.some((i) => i.code === "unknown-connection")) {
      io.err("give the pipeline's connections with --connections FILE");
    }
    return EXIT.invalid;
  }
  const bundle = usedConnections(checked.definition!, checked.configs, catalog, given);
  let secretKey: Uint8Array | undefined;
  if (Object.keys(bundle).length > 0) {
    const key = sealingKey(env, options.workers);
    if (!key.ok) {
      io.err(`sluice run: ${key.message}`);
      return EXIT.unreadable;
    }
    secretKey = key.key;
  }
  try {
    checkRedisUrl(options.redisUrl);
  } catch (err) {
    if (!(err instanceof RedisUrlError)) throw err;
    io.err(`sluice run: ${err.message}`);
    return EXIT.unreadable;
  }
  // Where connections may go, as on a deployment's workers: SLUICE_CONNECTIONS_ALLOW opens loopback and the like
  // (local servers); the Redis this run runs on, and DATABASE_URL's database when set, are never destinations.
  let destinations: DestinationPolicy;
  try {
    destinations = DestinationPolicy.fromSettings(env.SLUICE_CONNECTIONS_ALLOW, {
      redisUrl: options.redisUrl,
      databaseUrl: env.DATABASE_URL,
    });
  } catch (err) {
    if (!(err instanceof DestinationPolicyError)) throw err;
    io.err(`sluice run: ${err.message}`);
    return EXIT.unreadable;
  }
  let logSettings: LogSettings;
  try {
    // The engine's lines would bury the progress line: only warnings and worse unless SLUICE_LOG_LEVEL asks for more.
    logSettings = readLogSettings(env, { defaultLevel: "warn" });
  } catch (err) {
    if (!(err instanceof LogSettingsError)) throw err;
    io.err(`sluice run: ${err.message}`);
    return EXIT.unreadable;
  }
  const log = createLogger({ ...logSettings, name: "cli" });
  const tty = Boolean((process.stderr as { isTTY?: boolean }).isTTY) && !options.json;
  const cluster = options.cluster ?? false;
  // Every connection and queue of this run reports Redis being away through this one line.
  const redisAway = redisWaitNotice(options.redisUrl, (line) => {
    if (tty) process.stderr.write("\r\x1b[2K");
    io.err(line);
  });
  let interruptedWaiting = false;
  const onWaitSignal = () => {
    interruptedWaiting = true;
  };
  signals.on("SIGINT", onWaitSignal);
  signals.on("SIGTERM", onWaitSignal);
  let reached: boolean;
  try {
    reached = await waitForRedis(options.redisUrl, { cluster, notice: redisAway, stopped: () => interruptedWaiting });
  } catch (err) {
    if (!(err instanceof RedisRefusedError)) throw err;
    io.err(`sluice run: ${err.message}`);
    return EXIT.unreadable;
  } finally {
    signals.off("SIGINT", onWaitSignal);
    signals.off("SIGTERM", onWaitSignal);
  }
  if (!reached) return EXIT_INTERRUPTED;

  const definition = checked.definition!;
  const webhook = definition.spec.nodes.some((n) => n.type === "source.webhook");
  const pipelineId = filePipelineId(definition.metadata.name);
  const ingestToken = env.SLUICE_INGEST_TOKEN;
  if (webhook && ingestToken !== undefined && (ingestToken.length < MIN_INGEST_TOKEN || /\s/.test(ingestToken))) {
    io.err(`sluice run: SLUICE_INGEST_TOKEN must be at least ${MIN_INGEST_TOKEN} characters without spaces`);
    return EXIT.unreadable;
  }

  const keys = createKeys(options.prefix);
  const redis = connectRedis(options.redisUrl, "sluice-run", redisAway, { cluster });
  let ingest: IngestServer | undefined;
  if (webhook) {
    const listen = { host: options.ingest?.host ?? "127.0.0.1", port: options.ingest?.port ?? DEFAULT_INGEST_PORT };
    const token = ingestToken ?? newIngestToken();
    const deps = { redis, keys: { prefix: options.prefix } };
    try {
      await installIngestToken(deps, pipelineId, token, 0);
      ingest = await serveIngest(deps, listen.port, listen.host);
    } catch (err) {
      redis.disconnect();
      const why =
        (err as NodeJS.ErrnoException).code === "EADDRINUSE"
          ? "the port is taken (choose one with --ingest-port)"
          : (err as Error).message;
      io.err(`sluice run: cannot serve webhook ingest on ${listen.host}:${listen.port}: ${why}`);
      return EXIT.unreadable;
    }
    io.err(`webhook ingest: POST ${ingest.url}/api/ingest/${pipelineId}`);
    io.err(
      ingestToken === undefined
        ? `  with the header Authorization: Bearer ${token} (made for this run; set SLUICE_INGEST_TOKEN to keep one)`
        : "  with the header Authorization: Bearer $SLUICE_INGEST_TOKEN",
    );
  }
  // BullMQ leaves a connection it was given open on close(); this one is ours to close.
  const controlConnection = connectRedis(options.redisUrl, "sluice-run-control", redisAway, { cluster });
  const control = new Queue(QUEUE_CONTROL, { connection: controlConnection, prefix: keys.bullPrefix });
  control.on("error", redisAway);
  const workers = Array.from(
    { length: options.workers },
    (_, i) =>
      new FleetWorker({
        connect: () => connectRedis(options.redisUrl, "sluice-run-worker", redisAway, { cluster }),
        prefix: options.prefix,
        catalog,
        runtimes,
        workerId: `cli-${process.pid}-${i + 1}`,
        destinations,
        log,
        ...(secretKey ? { secretKey } : {}),
      }),
  );
  const runId = `cli-${Date.now().toString(36)}-${randomBytes(3).toString("hex")}`;
  const startedAt = Date.now();
  let interrupts = 0;
  const onSignal = () => {
    interrupts++;
    if (interrupts === 1) {
      io.err("\nstopping the run (drain and commit); Ctrl-C again to leave at once");
      void stopRun(redis, keys, runId, DEFAULT_RUN_RETENTION_MS).catch(redisAway);
    } else {
      process.exit(EXIT_INTERRUPTED);
    }
  };
  signals.on("SIGINT", onSignal);
  signals.on("SIGTERM", onSignal);

  try {
    await Promise.all(workers.map((w) => w.start()));
    const job: RunStartJob = {
      v: 1,
      action: "start",
      runId,
      definition: checked.definition,
      parameters,
      pipelineId,
      ...(secretKey ? { connections: await sealJson(secretKey, bundle, connectionsContext(runId)) } : {}),
    };
    await control.add("start", job, { jobId: `start-${runId}` });
    if (!options.json)
      io.err(
        `run ${runId}: ${options.workers} worker${options.workers === 1 ? "" : "s"} on Redis at ${redisAddress(options.redisUrl)}`,
      );
    let last: RunSnapshot | undefined;
    let lastPrinted = 0;
    for (;;) {
      await new Promise((r) => setTimeout(r, 250));
      const s = await readRunSnapshot(redis, keys, runId);
      if (!s) continue;
      last = s;
      if (tty) process.stderr.write(`\r\x1b[2K${progressLine(s, startedAt)}`);
      else if (!options.json && Date.now() - lastPrinted >= 5000) {
        lastPrinted = Date.now();
        io.err(progressLine(s, startedAt));
      }
      if (isTerminal(s.status)) break;
    }
    if (tty) process.stderr.write("\n");
    if (options.json) io.out(JSON.stringify({ ...last, seconds: (Date.now() - startedAt) / 1000 }, null, 2));
    else {
      io.out(totalsTable(last!));
      io.out(
        `${last!.status} in ${((Date.now() - startedAt) / 1000).toFixed(1)}s${last!.error ? `: ${last!.error}` : ""}`,
      );
    }
    if (last!.status === "completed") return EXIT.ok;
    if (last!.status === "stopped") return EXIT_INTERRUPTED;
    return EXIT.invalid;
  } finally {
    signals.off("SIGINT", onSignal);
    signals.off("SIGTERM", onSignal);
    await ingest?.close();
    await Promise.all(workers.map((w) => w.close()));
    await control.close();
    controlConnection.disconnect();
    redis.disconnect();
  }
}
