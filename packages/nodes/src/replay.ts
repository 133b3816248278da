import { catalog } from "./catalog";

// How a source can be read again over a stretch of its history — a backfill replays [from, to] of a live pipeline's
// source into a shadow table. Each replayable source type maps the two bounds onto its own config fields (a start
// position and an end bound), so the replay is an ordinary run of the same node type that ends by itself when every
// partition has passed `to`. Browser-safe: the editor and the API both import it.

/** A position in a source: an event/arrival time (epoch ms) or the source's own offset (entry id, sequence, LSN, cursor value, file name). */
export type ReplayBound = { time: number } | { offset: string };

export interface ReplaySupport {
  by: readonly ("time" | "offset")[];
  offsetLabel: string;
  note: string;
}

/** The largest sequence part of a Redis entry id: `<ms>-MAX_SEQ` is the last id of that millisecond. */
const REDIS_MAX_SEQ = "18446744073709551615";
const REDIS_ID = /^(\d{1,20})(?:-(\d{1,20}))?$/;

const SUPPORT: Record<string, ReplaySupport> = {
  "source.redis-stream": {
    by: ["time", "offset"],
    offsetLabel: "Entry id",
    note: "Reads the entries whose ids lie in [from, to] — by time, the time Redis added them — and ends. Entries trimmed away since (MAXLEN) cannot be read again. The consumer group, if any, is left alone.",
  },
  "source.nats-jetstream": {
    by: ["time", "offset"],
    offsetLabel: "Stream sequence",
    note: "Reads the messages stored in [from, to] — by time, the time the stream stored them; by offset, stream sequences — through a consumer of its own, and ends. Messages the stream's limits removed since cannot be read again.",
  },
  "source.postgres": {
    by: ["time", "offset"],
    offsetLabel: "Cursor value",
    note: "Reads the rows whose cursor column lies in [from, to], in cursor order, and ends. By time needs a timestamp cursor column (updated_at); rows updated since carry their new cursor value, and deleted rows are not read.",
  },
  "source.file": {
    by: ["time", "offset"],
    offsetLabel: "File name",
    note: "Reads the matching files whose names (by offset) or modification times (by time) lie in [from, to], and ends.",
  },
};

/** Why a source node type cannot be replayed, for the ones that have a history in principle. */
const REFUSALS: Record<string, string> = {
  "source.postgres-cdc":
    "A change stream cannot be rewound: a replication slot only moves forward. A backfill from CDC would take an exported snapshot of the tables (a new slot's consistent point) read as a bounded source, then the changes from that slot's LSN — not built yet. Backfill from a source.postgres reading the same table by a cursor column instead.",
  "source.mariadb":
    "Not replayable by bounds yet: read the table again with a bounded source.mariadb run into the shadow table.",
  "source.webhook": "A webhook keeps no history: what was posted before cannot be asked for again.",
  "source.mqtt": "MQTT keeps no history beyond retained messages: what was published before cannot be read again.",
  "source.rabbitmq": "A RabbitMQ queue forgets what it delivered: acknowledged messages cannot be read again.",
};

/** How a source node type can be replayed, or undefined when it cannot (a webhook, MQTT, RabbitMQ queue...). */
export function replaySupport(nodeType: string): ReplaySupport | undefined {
  return SUPPORT[nodeType];
}

/** Why a source node type cannot be replayed (shown instead of the replay form), when `replaySupport` says it cannot. */
export function replayRefusal(nodeType: string): string {
  return REFUSALS[nodeType] ?? "This source keeps no history that can be read again.";
}

class ReplayError extends Error {
  override name = "ReplayError";
}

function checkBound(nodeType: string, bound: ReplayBound, which: "from" | "to"): void {
  const support = SUPPORT[nodeType]!;
  if ("time" in bound) {
    if (!Number.isFinite(bound.time) || bound.time < 0) {
      throw new ReplayError(`replay ${which}: the time must be epoch milliseconds ≥ 0, not ${String(bound.time)}`);
    }
    if (!support.by.includes("time")) throw new ReplayError(`${nodeType} cannot be replayed by time`);
  } else {
    if (typeof bound.offset !== "string" || bound.offset.trim() === "") {
      throw new ReplayError(
        `replay ${which}: give the ${support.offsetLabel.toLowerCase()} to ${which === "from" ? "start at" : "end at"}`,
      );
    }
    if (!support.by.includes("offset")) throw new ReplayError(`${nodeType} cannot be replayed by offset`);
  }
}

const iso = (ms: number) => new Date(Math.floor(ms)).toISOString();

/** Redis: the position just before `id` (start positions mean "after this id"). */
function redisBefore(id: string, which: "from"): string {
  const m = REDIS_ID.exec(id.trim());
  if (!m) throw new ReplayError(`replay ${which}: "${id}" is not a Redis entry id such as 1700000000000-0`);
  const ms = BigInt(m[1]!);
  const seq = BigInt(m[2] ?? "0");
  if (seq > 0n) return `${ms}-${seq - 1n}`;
  if (ms === 0n) return "earliest";
  return `${ms - 1n}-${REDIS_MAX_SEQ}`;
}

function redisReplay(from: ReplayBound, to: ReplayBound | undefined): Record<string, unknown> {
  const start = "time" in from ? redisBefore(String(Math.floor(from.time)), "from") : redisBefore(from.offset, "from");
  let until: string;
  if (to === undefined) until = "start";
  else if ("time" in to) until = `${Math.floor(to.time)}-${REDIS_MAX_SEQ}`;
  else {
    const m = REDIS_ID.exec(to.offset.trim());
    if (!m) throw new ReplayError(`replay to: "${to.offset}" is not a Redis entry id such as 1700000000000-0`);
    until = m[2] === undefined ? `${m[1]}-${REDIS_MAX_SEQ}` : `${m[1]}-${m[2]}`;
  }
  // A replay must not move the live pipeline's consumer group, nor start where the group stands.
  return { start, until, group: undefined };
}

function natsSequence(text: string, which: "from" | "to"): number {
  if (!/^\d{1,15}$/.test(text.trim()))
    throw new ReplayError(`replay ${which}: "${text}" is not a stream sequence number`);
  return Number(text.trim());
}

function natsReplay(from: ReplayBound, to: ReplayBound | undefined): Record<string, unknown> {
  // `start` as a number means "after this sequence".
  const start = "time" in from ? iso(from.time) : Math.max(0, natsSequence(from.offset, "from") - 1);
  const until = to === undefined ? "start" : "time" in to ? iso(to.time) : natsSequence(to.offset, "to");
  // A consumer of the replay's own: the live pipeline's durable consumer keeps its position.
  return { start, until, consumer: undefined };
}

function postgresReplay(
  config: Record<string, unknown>,
  from: ReplayBound,
  to: ReplayBound | undefined,
): Record<string, unknown> {
  const cursor = String(config.cursor ?? "");
  const declared = Array.isArray(config.columns)
    ? config.columns.find((c) => (typeof c === "string" ? c : (c as { name?: unknown })?.name) === cursor)
    : undefined;
  const cursorType =
    declared === undefined
      ? undefined
      : typeof declared === "string"
        ? "string"
        : String((declared as { type?: unknown }).type ?? "string");
  const value = (b: ReplayBound, which: "from" | "to") => {
    if ("offset" in b) return b.offset;
    if (cursorType !== undefined && cursorType !== "timestamp") {
      throw new ReplayError(
        `replay ${which}: the cursor column "${cursor}" is declared ${cursorType}, so it can be replayed by cursor value, not by time`,
      );
    }
    return iso(b.time);
  };
  return {
    mode: "bounded",
    cursorFrom: value(from, "from"),
    cursorTo: to === undefined ? undefined : value(to, "to"),
  };
}

function fileReplay(from: ReplayBound, to: ReplayBound | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if ("time" in from) out.modifiedFrom = iso(from.time);
  else out.nameFrom = from.offset;
  if (to !== undefined) {
    if ("time" in to) out.modifiedTo = iso(to.time);
    else out.nameTo = to.offset;
  }
  return out;
}

/** The node config that reads [from, to] and then ENDS (a bounded read), or throws a clear Error naming the field. `to` omitted = up to what exists when the run starts. */
export function replayConfig(
  nodeType: string,
  config: Record<string, unknown>,
  from: ReplayBound,
  to?: ReplayBound,
): Record<string, unknown> {
  if (!SUPPORT[nodeType]) throw new ReplayError(`${nodeType} cannot be replayed: ${replayRefusal(nodeType)}`);
  checkBound(nodeType, from, "from");
  if (to !== undefined) checkBound(nodeType, to, "to");
  if (to !== undefined && "time" in from && "time" in to && to.time < from.time) {
    throw new ReplayError("replay to: the end time is before the start time");
  }
  let changes: Record<string, unknown>;
  switch (nodeType) {
    case "source.redis-stream":
      changes = redisReplay(from, to);
      break;
    case "source.nats-jetstream":
      changes = natsReplay(from, to);
      break;
    case "source.postgres":
      changes = postgresReplay(config, from, to);
      break;
    default:
      changes = fileReplay(from, to);
  }
  const out: Record<string, unknown> = { ...config };
  for (const [k, v] of Object.entries(changes)) {
    if (v === undefined) delete out[k];
    else out[k] = v;
  }
  const parsed = catalog.get(nodeType)?.config.safeParse(out);
  if (parsed && !parsed.success) {
    const issue = parsed.error.issues[0]!;
    const path = issue.path.map(String).join(".") || "config";
    throw new ReplayError(`the replay config of ${nodeType} is not valid at ${path}: ${issue.message}`);
  }
  return out;
}
