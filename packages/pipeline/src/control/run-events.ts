import type { Keys } from "./keys";
import { TERMINAL_STATUSES } from "./run-status";

// A run's timeline: what happened to it, in order, each event written once where it happens. The status
// transitions (run-state.ts) append theirs inside their own Lua scripts, atomic with the change; the engine appends
// takeovers, retries and the dead-letter limit. The stream is capped and expires with the run (runKeys lists it); the
// reconciler copies it into PostgreSQL once the run ends, so the timeline outlives Redis.

export const RUN_EVENT_KINDS = [
  "started",
  "paused",
  "resumed",
  "stop-requested",
  "stopped",
  "completed",
  "failed",
  "restarted",
  "takeover",
  "retry",
  "dead-letter-limit",
  // What people did with the run's dead letters (the API's dead-letter actions), each with who and how many.
  "dead-letters-replayed",
  "dead-letters-fixed",
  "dead-letters-discarded",
] as const;

export type RunEventKind = (typeof RUN_EVENT_KINDS)[number];

/** One event as read back: `id` is its stream id (`<ms>-<seq>`), which orders it; `at` is the ms part. */
export interface RunEvent {
  id: string;
  at: number;
  kind: RunEventKind;
  /** The error of a failure, a retry or the dead-letter limit. */
  error?: string;
  stage?: number;
  partition?: number;
  /** The worker that took a partition over, or retried it. */
  worker?: string;
  /** The worker a takeover took the partition from. */
  previousWorker?: string;
  attempt?: number;
  /** A restart's generation, and whether it started over (reset) rather than from the last commit. */
  generation?: number;
  reset?: boolean;
  /** Who acted on dead letters (a user's name), how many, and which: "selected", "all" or a group. */
  by?: string;
  count?: number;
  scope?: string;
  /** Why dead letters were discarded. */
  reason?: string;
  /** How dead letters were fixed: the expression applied, or "by hand". */
  fix?: string;
  /** Fixed letters went straight back for another try. */
  replayed?: boolean;
}

/** Events a run's stream keeps at most (approximately: Redis trims whole nodes). Older ones go first. */
const RUN_EVENTS_MAX = 1000;

/**
 * Lua helper the transition scripts include: `event(key, field, value, …)` appends one event. The stream id is
 * Redis' clock, so events of the API and of every worker are in one order.
 */
export const EVENT_LUA = `local function event(key, ...) redis.call('XADD', key, 'MAXLEN', '~', '${RUN_EVENTS_MAX}', '*', ...) end\n`;

/** Appends an engine event (KEYS[2]) only while the run (meta KEYS[1]) exists and has not ended. */
const ENGINE_EVENT_LUA = `${EVENT_LUA}
local status = redis.call('HGET', KEYS[1], 'status')
if not status or ${TERMINAL_STATUSES.map((t) => `status == '${t}'`).join(" or ")} then return 0 end
event(KEYS[2], unpack(ARGV))
return 1
`;

export interface RunEventsClient {
  eval(script: string, numKeys: number, ...args: (string | number)[]): Promise<unknown>;
  xrange(key: string, start: string, end: string): Promise<[string, string[]][]>;
}

/** The fields an engine event carries besides its kind. */
export type RunEventDetail = Omit<RunEvent, "id" | "at" | "kind">;

const MAX_ERROR_CHARS = 2000;

/**
 * Appends what a user did (ARGV) to the run's stream while the run's meta (KEYS[1]) exists, whatever its status: a
 * run that ended keeps its dead letters for the retention, and what is done with them then is recorded too. The
 * stream gets the meta's expiry, so it never outlives the run. Returns the entry's id, or false.
 */
const USER_EVENT_LUA = `
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
local id = redis.call('XADD', KEYS[2], 'MAXLEN', '~', '${RUN_EVENTS_MAX}', '*', unpack(ARGV))
local ttl = redis.call('PTTL', KEYS[1])
if ttl > 0 then redis.call('PEXPIRE', KEYS[2], ttl) end
return id
`;

function eventFields(kind: RunEventKind, detail: RunEventDetail): string[] {
  const fields = ["kind", kind];
  for (const [name, value] of Object.entries(detail)) {
    if (value === undefined) continue;
    const text = typeof value === "boolean" ? (value ? "1" : "0") : String(value);
    // Errors, reasons and expressions are people's text: each is kept to a readable length.
    fields.push(name, text.slice(0, MAX_ERROR_CHARS));
  }
  return fields;
}

/**
 * Appends an event the engine saw (a takeover, a retry, the dead-letter limit) to a run that is still going;
 * returns whether it did (a run that has ended or expired takes no more events, so its stream cannot outlive it).
 */
export async function recordRunEvent(
  redis: RunEventsClient,
  keys: Keys,
  runId: string,
  kind: RunEventKind,
  detail: RunEventDetail = {},
): Promise<boolean> {
  const args = eventFields(kind, detail);
  return (await redis.eval(ENGINE_EVENT_LUA, 2, keys.runMeta(runId), keys.runEvents(runId), ...args)) === 1;
}

/**
 * Appends an event a user caused (what was done with dead letters) to a run whose state still exists, ended or not;
 * returns the event's stream id, or undefined when the run's state is gone.
 */
export async function recordUserEvent(
  redis: RunEventsClient,
  keys: Keys,
  runId: string,
  kind: RunEventKind,
  detail: RunEventDetail,
): Promise<{ id: string; fields: Record<string, string> } | undefined> {
  const args = eventFields(kind, detail);
  const id = await redis.eval(USER_EVENT_LUA, 2, keys.runMeta(runId), keys.runEvents(runId), ...args);
  if (typeof id !== "string") return undefined;
  const fields: Record<string, string> = {};
  for (let i = 0; i + 1 < args.length; i += 2) fields[args[i]!] = args[i + 1]!;
  return { id, fields };
}

const NUMBER_FIELDS = ["stage", "partition", "attempt", "generation", "count"] as const;
const TEXT_FIELDS = ["error", "worker", "previousWorker", "by", "scope", "reason", "fix"] as const;

/** A stream entry as an event; undefined for one of a kind this version does not know. */
export function parseRunEvent(id: string, fields: Readonly<Record<string, string>>): RunEvent | undefined {
  const kind = RUN_EVENT_KINDS.find((k) => k === fields.kind);
  if (!kind) return undefined;
  const event: RunEvent = { id, at: Number(id.split("-")[0]), kind };
  for (const name of NUMBER_FIELDS) {
    const n = Number(fields[name]);
    if (fields[name] !== undefined && Number.isFinite(n)) event[name] = n;
  }
  for (const name of TEXT_FIELDS) if (fields[name] !== undefined) event[name] = fields[name];
  if (fields.reset !== undefined) event.reset = fields.reset === "1";
  if (fields.replayed !== undefined) event.replayed = fields.replayed === "1";
  return event;
}

/** The stream's entries as stored (id and fields), oldest first: what the reconciler copies. */
export async function readRunEventEntries(
  redis: RunEventsClient,
  keys: Keys,
  runId: string,
): Promise<{ id: string; fields: Record<string, string> }[]> {
  const entries = await redis.xrange(keys.runEvents(runId), "-", "+");
  return entries.map(([id, flat]) => {
    const fields: Record<string, string> = {};
    for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i]!] = flat[i + 1]!;
    return { id, fields };
  });
}

/** Every event the run's stream still holds, oldest first. */
export async function readRunEvents(redis: RunEventsClient, keys: Keys, runId: string): Promise<RunEvent[]> {
  return (await readRunEventEntries(redis, keys, runId)).flatMap(({ id, fields }) => {
    const event = parseRunEvent(id, fields);
    return event ? [event] : [];
  });
}

/** Orders events by stream id (`<ms>-<seq>`): numerically, as the stream does. */
export function compareEventIds(a: string, b: string): number {
  const [am, as] = a.split("-").map(Number);
  const [bm, bs] = b.split("-").map(Number);
  return am! - bm! || as! - bs!;
}
