import type { Keys } from "./keys";

// A run's log: the lines its workers logged with the run's binding, as JSON (secrets already redacted by the
// logger), in a capped stream that ends with the run. The engine's run-log-sink.ts writes it; the API pages it.

/** Lines a run's stream keeps at most (approximately: Redis trims whole nodes). */
export const RUN_LOGS_MAX = 10_000;

export const RUN_LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal"] as const;
export type RunLogLevel = (typeof RUN_LOG_LEVELS)[number];

/** pino's level numbers. */
const LEVEL_NUMBERS: Record<RunLogLevel, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 };

function levelNumber(level: RunLogLevel): number {
  return LEVEL_NUMBERS[level];
}

function levelName(n: number): RunLogLevel {
  return [...RUN_LOG_LEVELS].reverse().find((l) => LEVEL_NUMBERS[l] <= n) ?? "trace";
}

/**
 * Appends lines (ARGV, JSON each) to the run's stream (KEYS[2]) while its meta (KEYS[1]) exists; a stream created
 * after the run's retention started is given the meta's expiry and a margin, so it never outlives the run.
 */
export const APPEND_LOGS_LUA = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
for i = 1, #ARGV do redis.call('XADD', KEYS[2], 'MAXLEN', '~', '${RUN_LOGS_MAX}', '*', 'j', ARGV[i]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl > 0 and redis.call('PTTL', KEYS[2]) < 0 then redis.call('PEXPIRE', KEYS[2], ttl + math.min(ttl, 3600000)) end
return 1
`;

export interface RunLogLine {
  /** The stream id (`<ms>-<seq>`): the cursor to page on. */
  id: string;
  /** When the line was logged (epoch ms). */
  at: number;
  level: RunLogLevel;
  message: string;
  worker?: string;
  stage?: number;
  partition?: number;
  node?: string;
  /** The line's other fields. */
  fields: Record<string, unknown>;
}

const OWN_FIELDS = new Set([
  "level",
  "time",
  "msg",
  "name",
  "run",
  "stage",
  "partition",
  "node",
  "worker",
  "pid",
  "hostname",
]);

/** A stored line as the API shows it; undefined for one that is not a JSON object. */
function parseRunLogLine(id: string, json: string): RunLogLine | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    return undefined;
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return undefined;
  const o = raw as Record<string, unknown>;
  const time = typeof o.time === "string" ? Date.parse(o.time) : typeof o.time === "number" ? o.time : Number.NaN;
  const line: RunLogLine = {
    id,
    at: Number.isFinite(time) ? time : Number(id.split("-")[0]),
    level: levelName(typeof o.level === "number" ? o.level : 30),
    message: typeof o.msg === "string" ? o.msg : "",
    fields: Object.fromEntries(Object.entries(o).filter(([k]) => !OWN_FIELDS.has(k))),
  };
  if (typeof o.worker === "string") line.worker = o.worker;
  if (typeof o.stage === "number") line.stage = o.stage;
  if (typeof o.partition === "number") line.partition = o.partition;
  if (typeof o.node === "string") line.node = o.node;
  return line;
}

export interface RunLogsClient {
  xrevrange(key: string, end: string, start: string, count: "COUNT", n: number): Promise<[string, string[]][]>;
  xrange(key: string, start: string, end: string, count: "COUNT", n: number): Promise<[string, string[]][]>;
}

function matches(line: RunLogLine | undefined, q: Pick<RunLogQuery, "level" | "node">): line is RunLogLine {
  if (!line) return false;
  if (q.level && levelNumber(line.level) < levelNumber(q.level)) return false;
  return q.node === undefined || line.node === q.node;
}

function lineOf([id, fields]: [string, string[]]): RunLogLine | undefined {
  return parseRunLogLine(id, fields[fields.indexOf("j") + 1] ?? "");
}

/**
 * Lines newer than stream id `since` (all of the newest `limit` when it is undefined), oldest first, filtered: the
 * live tail's step. `last` is the id to go on from (the last entry read, whether it matched or not), `read` how many
 * entries were read (a full step may have more behind it).
 */
export async function readRunLogsSince(
  redis: RunLogsClient,
  keys: Keys,
  runId: string,
  since: string | undefined,
  q: Pick<RunLogQuery, "level" | "node" | "limit">,
): Promise<{ lines: RunLogLine[]; last: string | undefined; read: number }> {
  const entries =
    since === undefined
      ? (await redis.xrevrange(keys.runLogs(runId), "+", "-", "COUNT", q.limit)).reverse()
      : await redis.xrange(keys.runLogs(runId), `(${since}`, "+", "COUNT", q.limit);
  const lines = entries.map(lineOf).filter((l) => matches(l, q));
  return { lines, last: entries.length > 0 ? entries[entries.length - 1]![0] : since, read: entries.length };
}

export interface RunLogQuery {
  /** Lines at this level and above. */
  level?: RunLogLevel | undefined;
  /** Lines about this node only. */
  node?: string | undefined;
  /** The cursor (`next` of the page before): lines listed after this one, i.e. older. */
  after?: string | undefined;
  limit: number;
}

/** Entries read per step while filtering: the stream holds 10,000 at most, so a page reads it at most once. */
const SCAN_CHUNK = 500;

/** A page of the run's lines, newest first, filtered; `next` is the cursor of the page after (null at the end). */
export async function readRunLogs(
  redis: RunLogsClient,
  keys: Keys,
  runId: string,
  q: RunLogQuery,
): Promise<{ lines: RunLogLine[]; next: string | null }> {
  const lines: RunLogLine[] = [];
  let end = q.after ? `(${q.after}` : "+";
  for (;;) {
    const chunk = await redis.xrevrange(keys.runLogs(runId), end, "-", "COUNT", SCAN_CHUNK);
    for (const entry of chunk) {
      const line = lineOf(entry);
      if (!matches(line, q)) continue;
      lines.push(line);
      if (lines.length === q.limit) return { lines, next: line.id };
    }
    if (chunk.length < SCAN_CHUNK) return { lines, next: null };
    end = `(${chunk[chunk.length - 1]![0]}`;
  }
}
