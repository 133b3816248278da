import {
  AckPolicy,
  type ConsumerConfig,
  type ConsumerInfo,
  type ConsumerMessages,
  DeliverPolicy,
  JetStreamApiCodes,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  jetstream,
  jetstreamManager,
} from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { DataRecord } from "@sluice/pipeline/record-schema";
import type {
  RejectedRecord,
  RuntimeContext,
  SourceBatch,
  SourceOffset,
  SourceReader,
  SourceRuntime,
} from "../../runtime-contract";
import { NodeConfigError } from "../../runtime-expressions";
import { PayloadDecoder, withMetadata } from "../messaging/codec";
import { errorText, openError } from "../messaging/connection-problems";
import { Inbox } from "../messaging/inbox";
import { rejectedBatch } from "../messaging/rejected";
import { connectNats, consumerName, diagnoseNats, isApiError, natsConfig, natsWhere } from "./nats-client";
import { type NatsSourceConfig, natsSubjects } from "./nats-source.def";

// One durable pull consumer per subject (or one for the whole stream), ack policy "all": after the engine commits a
// batch, acknowledging its last message acknowledges everything before it. The committed stream sequence is the
// truth: a consumer that delivered beyond it (a crash, a release) is created again to deliver from the next
// message, and a gap in the delivery sequence (a delivery lost with a dropped connection) sends the partition back
// to its last commit instead of going on without it.

const NS_PER_MS = 1_000_000;
const ACK_WAIT_NS = 10 * 60 * 1000 * NS_PER_MS;
const INACTIVE_NS = 7 * 24 * 3600 * 1000 * NS_PER_MS;
/** Offset key of the consumer that reads the whole stream. */
const WHOLE_STREAM = "*";

interface ConsumerState {
  key: string;
  name: string;
  filter: string | undefined;
  /** Stream sequence of the last message handed to the engine. */
  last: number;
  /** The delivery sequence the next delivery must have; undefined until the first one. */
  nextDelivery: number | undefined;
  /** Stream sequence of the newest message received (in the inbox or handed over). */
  received: number;
  /** Messages handed to the engine and not yet acknowledged (the newest one acknowledges all). */
  unacked: JsMsg[];
  messages: ConsumerMessages | undefined;
  /** A bounded read (`until`) has handed over every message of this consumer up to the bound. */
  done: boolean;
  /** The consumer's delivery sequence when this reader opened it (a kept consumer has delivered before). */
  deliveredAtOpen: number;
}

/** Offset key of the last stream sequence a bounded read (`until: start`) captured; no subject is empty. */
const BOUND_KEY = "";

/** The end of a bounded read: a last stream sequence and/or a last storage time (epoch ms). */
interface ReadBound {
  seq: number;
  time: number;
}

function readOffset(from: SourceOffset | null): Record<string, number> {
  if (from === null || typeof from !== "object" || Array.isArray(from)) return {};
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(from)) if (typeof v === "number") out[k] = v;
  return out;
}

/** Where a consumer created without a committed position starts. */
function startConfig(start: NatsSourceConfig["start"], runStartedAt: number): Partial<ConsumerConfig> {
  if (start === "earliest") return { deliver_policy: DeliverPolicy.All };
  if (start === "latest")
    return { deliver_policy: DeliverPolicy.StartTime, opt_start_time: new Date(runStartedAt).toISOString() };
  if (typeof start === "string") return { deliver_policy: DeliverPolicy.StartTime, opt_start_time: start };
  return { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: start + 1 };
}

async function consumerInfo(jsm: JetStreamManager, stream: string, name: string): Promise<ConsumerInfo | undefined> {
  try {
    return await jsm.consumers.info(stream, name);
  } catch (err) {
    if (isApiError(err, JetStreamApiCodes.ConsumerNotFound)) return undefined;
    throw err;
  }
}

/**
 * Makes the durable consumer deliver, next, the message after `committed` (when known): an existing consumer is kept
 * when nothing is outstanding there, else created again. Returns the stream sequence already behind the reader.
 */
async function prepareConsumer(
  jsm: JetStreamManager,
  ctx: RuntimeContext<NatsSourceConfig>,
  state: ConsumerState,
  committed: number | undefined,
): Promise<number> {
  const c = ctx.config;
  const info = await consumerInfo(jsm, c.stream, state.name);
  const base: Partial<ConsumerConfig> = {
    durable_name: state.name,
    ack_policy: AckPolicy.All,
    ack_wait: ACK_WAIT_NS,
    max_ack_pending: c.maxInflight,
    max_deliver: -1,
    inactive_threshold: INACTIVE_NS,
    ...(state.filter !== undefined ? { filter_subject: state.filter } : {}),
  };
  let start: Partial<ConsumerConfig>;
  let behind: number;
  if (committed !== undefined) {
    const clean =
      info !== undefined &&
      info.config.filter_subject === state.filter &&
      info.delivered.stream_seq === committed &&
      info.ack_floor.stream_seq === committed;
    if (clean) return committed;
    start = { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: committed + 1 };
    behind = committed;
  } else if (info !== undefined && info.config.filter_subject === state.filter) {
    // A consumer from an earlier run (or from before this run's first commit): continue after its acknowledgements.
    const acked = info.ack_floor.stream_seq;
    if (info.delivered.consumer_seq === info.ack_floor.consumer_seq) return acked;
    if (acked === 0) {
      const { deliver_policy, opt_start_seq, opt_start_time } = info.config;
      start = {
        deliver_policy,
        ...(opt_start_seq !== undefined ? { opt_start_seq } : {}),
        ...(opt_start_time !== undefined ? { opt_start_time } : {}),
      };
    } else start = { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: acked + 1 };
    behind = acked;
  } else {
    start = startConfig(c.start, ctx.runStartedAt);
    behind = typeof c.start === "number" ? c.start : 0;
  }
  if (info !== undefined) await jsm.consumers.delete(c.stream, state.name);
  await jsm.consumers.add(c.stream, { ...base, ...start });
  return behind;
}

export const natsSourceRuntime: SourceRuntime<NatsSourceConfig> = {
  kind: "source",
  type: "source.nats-jetstream",
  async open(ctx, from): Promise<SourceReader> {
    const c = ctx.config;
    const conn = natsConfig(ctx.services.connections.get(c.connection, "nats"));
    const where = natsWhere(conn);
    const preview = ctx.mode === "preview";
    const subjects = natsSubjects(c);
    const keys = (subjects ?? [WHOLE_STREAM]).map((s, i) => ({ key: s, filter: subjects ? s : undefined, i }));
    const mine = keys.filter(({ i }) => i % ctx.partitions === ctx.partition);
    const base = c.consumer ?? consumerName(`sluice-${ctx.runId}-${ctx.nodeId}`);
    const states: ConsumerState[] = mine.map(({ key, filter, i }) => ({
      key,
      name: subjects && subjects.length > 1 ? `${base}-${i + 1}` : base,
      filter,
      last: 0,
      nextDelivery: undefined,
      received: 0,
      unacked: [],
      messages: undefined,
      done: false,
      deliveredAtOpen: 0,
    }));
    const bounded = c.until !== undefined && !preview;
    const bound: ReadBound = { seq: Number.POSITIVE_INFINITY, time: Number.POSITIVE_INFINITY };
    if (typeof c.until === "number") bound.seq = c.until;
    else if (typeof c.until === "string" && c.until !== "start") bound.time = Date.parse(c.until);

    let nc: NatsConnection | undefined;
    let js: JetStreamClient;
    let jsm: JetStreamManager;
    const inbox = new Inbox<{ state: ConsumerState; msg: JsMsg }>();
    try {
      nc = await connectNats(
        conn,
        `${ctx.runId}:${ctx.nodeId}:${ctx.partition}`,
        preview ? "probe" : "run",
        ctx.services.destinations.for(c.connection),
      );
      jsm = await jetstreamManager(nc);
      js = jetstream(nc);
      let lastSeq = 0;
      try {
        lastSeq = (await jsm.streams.info(c.stream)).state.last_seq;
      } catch (err) {
        if (isApiError(err, JetStreamApiCodes.StreamNotFound)) {
          throw new NodeConfigError(ctx.nodeId, "stream", `there is no stream "${c.stream}" on ${where}`);
        }
        throw err;
      }
      if (preview) return await previewReader(ctx, nc, js, states[0], lastSeq);
      const committed = readOffset(from);
      // "start": the stream's last message when the run started, kept in the offset so a restart ends at it too.
      if (c.until === "start") bound.seq = committed[BOUND_KEY] ?? lastSeq;
      for (const state of states) {
        state.last = await prepareConsumer(jsm, ctx, state, committed[state.key]);
        state.received = state.last;
        if (bounded) state.deliveredAtOpen = (await jsm.consumers.info(c.stream, state.name)).delivered.consumer_seq;
        const consumer = await js.consumers.get(c.stream, state.name);
        state.messages = await consumer.consume({
          max_messages: Math.min(1000, c.maxInflight),
          callback: (msg) => {
            const delivery = msg.info.deliverySequence;
            if (state.nextDelivery !== undefined && delivery !== state.nextDelivery) {
              inbox.fail(
                new Error(
                  `consumer ${state.name} on ${where}: delivery ${state.nextDelivery} never arrived (the next was ${delivery}); reading again from the last commit`,
                ),
              );
            }
            state.nextDelivery = delivery + 1;
            // A redelivery (its ack wait ran out before the commit) of a message already received: not again.
            if (msg.seq <= state.received) return;
            state.received = msg.seq;
            inbox.push({ state, msg });
          },
        });
        void state.messages.closed().then((err) => {
          if (err) inbox.fail(new Error(`the consumer ${state.name} on ${where} stopped: ${errorText(err)}`));
        });
      }
    } catch (err) {
      await nc?.close().catch(() => {});
      if (err instanceof NodeConfigError) throw err;
      throw openError(ctx, c.connection, diagnoseNats(err, where));
    }
    const connection = nc;
    const decoder = new PayloadDecoder(c);
    const offset = (): SourceOffset => ({
      ...Object.fromEntries(states.map((s) => [s.key, s.last])),
      ...(c.until === "start" ? { [BOUND_KEY]: bound.seq } : {}),
    });
    const beyond = (msg: JsMsg) => msg.seq > bound.seq || Math.floor(msg.info.timestampNanos / NS_PER_MS) > bound.time;
    let checkedAt = 0;
    /**
     * Marks the consumers that have nothing left up to the bound: every message up to it exists already (the stream
     * has passed the sequence, or the time is past), the server has none left to deliver, and all it delivered
     * arrived here.
     */
    const checkDone = async () => {
      if (Date.now() - checkedAt < c.block) return;
      checkedAt = Date.now();
      if (bound.time !== Number.POSITIVE_INFINITY && Date.now() <= bound.time) return;
      if (bound.seq !== Number.POSITIVE_INFINITY && (await jsm.streams.info(c.stream)).state.last_seq < bound.seq)
        return;
      for (const state of states) {
        if (state.done) continue;
        const info = await jsm.consumers.info(c.stream, state.name);
        // delivered.stream_seq of a filtered consumer runs ahead to the last message it looked at: compare deliveries.
        const arrived = state.nextDelivery !== undefined ? state.nextDelivery - 1 : state.deliveredAtOpen;
        if (info.num_pending === 0 && info.delivered.consumer_seq <= arrived) state.done = true;
      }
    };

    return {
      async read(max, signal): Promise<SourceBatch> {
        if (states.length === 0) return { records: [], offset: offset(), end: bounded, idleMs: 1000 };
        await inbox.wait(c.block, signal);
        const records: DataRecord[] = [];
        const bad: RejectedRecord[] = [];
        const taken = inbox.take(max);
        for (const { state, msg } of taken) {
          if (bounded && (state.done || beyond(msg))) {
            // Past the bound: not read (nor acknowledged); the consumer has nothing more to give this run.
            state.done = true;
            continue;
          }
          const info = msg.info;
          state.last = info.streamSequence;
          state.unacked.push(msg);
          const meta = {
            _subject: msg.subject,
            _seq: info.streamSequence,
            _time: Math.floor(info.timestampNanos / NS_PER_MS),
          };
          try {
            const record = decoder.decode(msg.data);
            records.push(decoder.withMetadata ? withMetadata(record, meta) : record);
          } catch (err) {
            bad.push(decoder.undecoded(msg.data, err, meta));
          }
        }
        if (bounded) {
          if (taken.length === 0) await checkDone();
          const end = states.every((st) => st.done);
          return rejectedBatch(ctx, { records, offset: offset(), end, idleMs: 1 }, bad);
        }
        return rejectedBatch(ctx, { records, offset: offset(), end: false, idleMs: 1 }, bad);
      },

      async committed(committedOffset) {
        const seqs = readOffset(committedOffset);
        for (const state of states) {
          const upTo = seqs[state.key];
          if (upTo === undefined) continue;
          let k = state.unacked.length - 1;
          while (k >= 0 && state.unacked[k]!.seq > upTo) k--;
          if (k < 0) continue;
          // Ack policy "all": the newest committed message acknowledges every one before it.
          state.unacked[k]!.ack();
          state.unacked = state.unacked.slice(k + 1);
        }
      },

      /**
       * Messages of this partition's consumers not acknowledged yet: those the server has still to deliver
       * (num_pending) and those delivered, prefetched or read, whose batch is not committed (num_ack_pending).
       */
      async offsetLag() {
        if (states.length === 0) return undefined;
        const infos = await Promise.all(states.map((s) => jsm.consumers.info(c.stream, s.name)));
        const value = infos.reduce((n, i) => n + i.num_pending + i.num_ack_pending, 0);
        return { value, unit: "messages" as const };
      },

      async close() {
        for (const s of states) await s.messages?.close().catch(() => {});
        await connection.close().catch(() => {});
      },
    };
  },
};

/** The editor's preview: an ordered (ephemeral, unacknowledged) consumer from the start position; nothing changes. */
async function previewReader(
  ctx: RuntimeContext<NatsSourceConfig>,
  nc: NatsConnection,
  js: JetStreamClient,
  state: ConsumerState | undefined,
  lastSeq: number,
): Promise<SourceReader> {
  const c = ctx.config;
  const decoder = new PayloadDecoder(c);
  // "latest" would show nothing yet: show the newest messages instead.
  const start =
    c.start === "latest"
      ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: Math.max(1, lastSeq - 99) }
      : startConfig(c.start, ctx.runStartedAt);
  const consumer = state
    ? await js.consumers.get(c.stream, {
        ...(state.filter !== undefined ? { filter_subjects: state.filter } : {}),
        ...start,
      })
    : undefined;
  let ended = consumer === undefined;
  return {
    async read(max): Promise<SourceBatch> {
      if (ended || !consumer) return { records: [], offset: null, end: true };
      const records: DataRecord[] = [];
      const bad: RejectedRecord[] = [];
      const messages = await consumer.fetch({ max_messages: max, expires: 1000 });
      for await (const msg of messages) {
        const meta = { _subject: msg.subject, _seq: msg.seq, _time: Math.floor(msg.info.timestampNanos / NS_PER_MS) };
        try {
          const record = decoder.decode(msg.data);
          records.push(decoder.withMetadata ? withMetadata(record, meta) : record);
        } catch (err) {
          bad.push(decoder.undecoded(msg.data, err, meta));
        }
        if (msg.info.pending === 0) break;
      }
      ended = records.length + bad.length < max;
      return rejectedBatch(ctx, { records, offset: null, end: ended }, bad);
    },
    async close() {
      await nc.close().catch(() => {});
    },
  };
}
