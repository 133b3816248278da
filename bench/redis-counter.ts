import type { Socket } from "node:net";
import type { Redis } from "ioredis";

// Counts what the engine's Redis connections send, at the client, for the engine benchmark's cost figures
// (engine.ts): commands, round trips and request bytes. Only connections handed to `instrument` are counted, so
// the benchmark's own polling on the same thread (--inline) stays out; the engine itself is not changed.
//
// Where each figure is taken (ioredis 6):
// - a command is counted when `sendCommand` writes it, i.e. when it joins the connection's reply queue (a command
//   parked in the offline queue counts when it is flushed, not twice). A pipeline's or a transaction's commands
//   pass through `sendCommand` one by one, MULTI and EXEC included, as does every EVALSHA (and the EVAL after a
//   NOSCRIPT) a script sends; the commands a Lua script runs inside Redis are not client commands.
// - a round trip is one write to the socket: ioredis writes a single command (blocking reads too) in one
//   `socket.write` and a whole pipeline or MULTI…EXEC in one, so writes = what the client waits on one by one.
// - bytes are what those writes carry (RESP request bytes, string chunks measured as UTF-8), less the text of Lua
//   scripts: ioredis sends a script's whole text (EVAL) the first time it runs on a connection and its SHA1
//   (EVALSHA) after, so a fresh fleet's first run would carry ~100 KB more than its later ones. That excess is
//   counted apart (scriptTextBytes) to keep the per-event figure the same from run to run.
// Commands whose first key matches `background` (the fleet's timers and control queues) are also counted apart,
// and so are the writes that carry one: that part grows with a run's duration, not with its events.

/** Slots of a counter's Float64Array. */
const COMMANDS = 0;
const ROUND_TRIPS = 1;
const BYTES = 2;
const BACKGROUND = 3;
const SCRIPT_TEXT = 6;
const SLOTS = 7;

export interface RedisClientCounts {
  commands: number;
  roundTrips: number;
  bytesWritten: number;
  /** The part of the above that went to keys matching the counter's `background` pattern. */
  background: { commands: number; roundTrips: number; bytesWritten: number };
  /** Bytes of EVAL beyond the EVALSHA it stood in for (a script's first call on a connection): not in the above. */
  scriptTextBytes: number;
}

/**
 * Keys of a fleet under `prefix` that its timers and control queues use (per second, per heartbeat, per poll or
 * lock renewal, per run start) rather than its batches: node figures (`{run}:fig:<second>`), the run's control
 * hash (`{run}:meta`, which each partition polls for stop requests), each partition's dead-letter replay stream
 * (polled), the worker registry (`{workers}`) and BullMQ (`{bull}`).
 */
export function backgroundKeys(prefix: string): RegExp {
  const p = prefix.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`^${p}:\\{(?:bull|workers)\\}|^${p}:\\{[^}]*\\}:(?:fig:|meta$|replay$)`);
}

/** A counter's memory: shared, so a worker thread counts into it and the main thread reads it as it goes. */
export function newCounterBuffer(): SharedArrayBuffer {
  return new SharedArrayBuffer(SLOTS * Float64Array.BYTES_PER_ELEMENT);
}

/** The counts in counter buffers, summed (one buffer per worker; each is written by one thread only). */
export function readCounters(buffers: readonly SharedArrayBuffer[]): RedisClientCounts {
  const sum = new Float64Array(SLOTS);
  for (const buffer of buffers) {
    const slots = new Float64Array(buffer);
    for (let i = 0; i < SLOTS; i++) sum[i]! += slots[i]!;
  }
  const three = (at: number) => ({
    commands: sum[at + COMMANDS]!,
    roundTrips: sum[at + ROUND_TRIPS]!,
    bytesWritten: sum[at + BYTES]!,
  });
  return { ...three(0), background: three(BACKGROUND), scriptTextBytes: sum[SCRIPT_TEXT]! };
}

export function subtractCounts(a: RedisClientCounts, b: RedisClientCounts): RedisClientCounts {
  const minus = (x: RedisClientCounts["background"], y: RedisClientCounts["background"]) => ({
    commands: x.commands - y.commands,
    roundTrips: x.roundTrips - y.roundTrips,
    bytesWritten: x.bytesWritten - y.bytesWritten,
  });
  return {
    ...minus(a, b),
    background: minus(a.background, b.background),
    scriptTextBytes: a.scriptTextBytes - b.scriptTextBytes,
  };
}

/** A RESP bulk string's size on the wire. */
const bulkBytes = (value: string) => {
  const n = Buffer.byteLength(value);
  return 1 + String(n).length + 2 + n + 2;
};

/** The key a command touches first (a script's first key), when it names one as a string. */
function firstKey(command: { name: string; args: unknown[] }): unknown {
  const { name, args } = command;
  if (name === "evalsha" || name === "eval" || name === "evalsha_ro" || name === "eval_ro") {
    return Number(args[1]) > 0 ? args[2] : undefined;
  }
  return args[0];
}

type SendCommand = Redis["sendCommand"];
type Write = Socket["write"];

/**
 * Counts into `buffer` what the connections it instruments send, and those they `duplicate()` (BullMQ's
 * blocking connections are duplicates of the ones it is given).
 */
export class RedisClientCounter {
  private readonly slots: Float64Array;

  constructor(
    buffer: SharedArrayBuffer,
    private readonly background?: RegExp,
  ) {
    this.slots = new Float64Array(buffer);
  }

  instrument(redis: Redis): Redis {
    const slots = this.slots;
    const background = this.background;
    // Whether the connection's next socket write carries a background command: set as such a command goes in,
    // cleared by the write (a pipeline's commands all go in before its one write).
    const state = { background: false };
    const send: SendCommand = redis.sendCommand;
    // Own properties shadow the prototype's methods for this instance only; ioredis and its pipelines call
    // them through the instance (`this.sendCommand`, `redis.sendCommand`).
    redis.sendCommand = function (this: Redis, ...args: Parameters<SendCommand>) {
      const [command, stream] = args;
      const key = background ? firstKey(command) : undefined;
      const isBackground = typeof key === "string" && background!.test(key);
      if (isBackground) state.background = true;
      const sha = command.name === "evalsha" ? command.args[0] : undefined;
      const queued = this.commandQueue.length;
      const result = send.apply(this, args);
      if (this.commandQueue.length !== queued) {
        slots[COMMANDS]!++;
        if (isBackground) slots[BACKGROUND + COMMANDS]!++;
        // ioredis turned the EVALSHA into an EVAL carrying the script as it wrote it.
        const lua = command.args[0];
        if (typeof sha === "string" && command.name === "eval" && typeof lua === "string") {
          const excess = bulkBytes("eval") + bulkBytes(lua) - bulkBytes("evalsha") - bulkBytes(sha);
          slots[SCRIPT_TEXT]! += excess;
          slots[BYTES]! -= excess;
          if (isBackground) slots[BACKGROUND + BYTES]! -= excess;
        }
      }
      // A single command is written (or parked) by now: its mark must not pass to the next write.
      if (stream === undefined) state.background = false;
      return result;
    };
    const duplicate = redis.duplicate;
    redis.duplicate = (...args: Parameters<Redis["duplicate"]>) => this.instrument(duplicate.apply(redis, args));
    // Each (re)connection assigns a new socket to `stream`: its `write` is wrapped as it arrives.
    let socket = redis.stream;
    if (socket) countWrites(socket, slots, state);
    Object.defineProperty(redis, "stream", {
      configurable: true,
      enumerable: true,
      get: () => socket,
      set: (next: Socket) => {
        if (next && next !== socket) countWrites(next, slots, state);
        socket = next;
      },
    });
    return redis;
  }
}

const COUNTED = Symbol("redis-client-counter");

function countWrites(socket: Socket & { [COUNTED]?: true }, slots: Float64Array, state: { background: boolean }): void {
  if (socket[COUNTED]) return;
  socket[COUNTED] = true;
  const write: Write = socket.write;
  socket.write = function (this: Socket, ...args: Parameters<Write>) {
    const chunk: unknown = args[0];
    const bytes =
      typeof chunk === "string" ? Buffer.byteLength(chunk) : ((chunk as Uint8Array | undefined)?.byteLength ?? 0);
    slots[ROUND_TRIPS]!++;
    slots[BYTES]! += bytes;
    if (state.background) {
      slots[BACKGROUND + ROUND_TRIPS]!++;
      slots[BACKGROUND + BYTES]! += bytes;
      state.background = false;
    }
    return write.apply(this, args);
  } as Write;
}

export interface RedisServerCounts {
  /** INFO stats total_commands_processed. */
  commands: number;
  /** INFO stats total_net_input_bytes. */
  bytesIn: number;
  /** INFO commandstats: calls per command name (inside scripts and transactions included). */
  calls: Record<string, number>;
}

/** Redis's own totals so far, over all its clients (the benchmark's own polling and anyone else's too). */
export async function redisServerCounts(redis: Redis): Promise<RedisServerCounts> {
  const info = String(await redis.call("INFO", "stats", "commandstats"));
  const field = (name: string) => Number(new RegExp(`^${name}:(\\d+)`, "m").exec(info)?.[1] ?? Number.NaN);
  const calls: Record<string, number> = {};
  for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) calls[m[1]!] = Number(m[2]);
  return { commands: field("total_commands_processed"), bytesIn: field("total_net_input_bytes"), calls };
}

/** Commands whose calls grew between two server readings, most first. */
export function callsDelta(after: RedisServerCounts, before: RedisServerCounts): [string, number][] {
  return Object.entries(after.calls)
    .map(([name, n]): [string, number] => [name, n - (before.calls[name] ?? 0)])
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1]);
}
