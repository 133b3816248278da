import type { DataRecord } from "@sluice/pipeline/record-schema";
import type { Channel, ChannelModel, ConsumeMessage } from "amqplib";
import type { RejectedRecord, SourceBatch, SourceOffset, SourceReader, SourceRuntime } from "../../runtime-contract";
import { NodeConfigError } from "../../runtime-expressions";
import { PayloadDecoder, withMetadata } from "../messaging/codec";
import { errorText, openError } from "../messaging/connection-problems";
import { Inbox } from "../messaging/inbox";
import { rejectedBatch } from "../messaging/rejected";
import {
  closeChannel,
  closeRabbitmq,
  connectRabbitmq,
  diagnoseRabbitmq,
  rabbitmqConfig,
  rabbitmqWhere,
} from "./rabbitmq-client";
import type { RabbitmqSourceConfig } from "./rabbitmq-source.def";

// Manual acknowledgements, given after the engine's commit: one basic.ack "multiple" up to the last message of the
// committed batch. A closed channel fails the reader (its unacknowledged messages go back to the queue); the engine
// opens it again on a fresh connection, whose delivery tags start over. The offset lag is the queue's ready messages
// (asked on a channel of its own with a passive declare, counted by partition 0 only, as every partition consumes
// the same queue) plus the messages delivered to this partition and not acknowledged yet.

function receivedCount(from: SourceOffset | null): number {
  if (from === null || typeof from !== "object" || Array.isArray(from)) return 0;
  const n = (from as { received?: unknown }).received;
  return typeof n === "number" && Number.isSafeInteger(n) && n >= 0 ? n : 0;
}

export const rabbitmqSourceRuntime: SourceRuntime<RabbitmqSourceConfig> = {
  kind: "source",
  type: "source.rabbitmq",
  async open(ctx, from): Promise<SourceReader> {
    const c = ctx.config;
    const base = receivedCount(from);
    if (ctx.mode === "preview") {
      return { read: async () => ({ records: [], offset: { received: base }, end: true }), close: async () => {} };
    }
    const conn = rabbitmqConfig(ctx.services.connections.get(c.connection, "rabbitmq"));
    const where = rabbitmqWhere(conn);
    const inbox = new Inbox<ConsumeMessage>();
    let model: ChannelModel | undefined;
    let channel: Channel;
    let open = true;
    /** Messages the broker delivered to this reader, counted from the committed `received`. */
    let delivered = base;
    const lost = (why: string) => {
      open = false;
      inbox.fail(new Error(`${why}; the broker requeues what was not acknowledged`));
    };
    try {
      model = await connectRabbitmq(
        conn,
        `${ctx.runId}:${ctx.nodeId}:${ctx.partition}`,
        ctx.services.destinations.for(c.connection),
      );
      channel = await model.createChannel();
      channel.on("error", () => {});
      // A missing queue closes the channel (404): the run fails, so nothing else happens on it.
      try {
        await channel.checkQueue(c.queue);
      } catch (err) {
        const d = diagnoseRabbitmq(err, where);
        if (d.problem === "not-found") {
          throw new NodeConfigError(ctx.nodeId, "queue", `there is no queue "${c.queue}" on ${where}`);
        }
        throw err;
      }
      channel.on("error", (err: Error) => lost(`the channel to ${where} failed: ${errorText(err)}`));
      channel.on("close", () => lost(`the channel to ${where} closed`));
      model.on("close", () => lost(`the connection to ${where} was lost`));
      await channel.prefetch(c.prefetch);
      await channel.consume(
        c.queue,
        (msg) => {
          if (msg === null) lost(`the queue "${c.queue}" was deleted or the broker cancelled the consumer`);
          else {
            delivered++;
            inbox.push(msg);
          }
        },
        { noAck: false },
      );
    } catch (err) {
      await closeRabbitmq(model);
      if (err instanceof NodeConfigError) throw err;
      throw openError(ctx, c.connection, diagnoseRabbitmq(err, where));
    }
    const connection = model;
    const ch = channel;
    const decoder = new PayloadDecoder(c);
    let handed = base;
    /** Messages acknowledged so far, counted as `received` is. */
    let acked = base;
    let lagChannel: Promise<Channel> | undefined;
    const queueReady = async (): Promise<number> => {
      lagChannel ??= connection.createChannel().then((lc) => {
        // A failed check closes this channel only; the next one opens another.
        lc.on("error", () => {});
        lc.on("close", () => {
          lagChannel = undefined;
        });
        return lc;
      });
      lagChannel.catch(() => {
        lagChannel = undefined;
      });
      return (await (await lagChannel).checkQueue(c.queue)).messageCount;
    };
    /** The last message of each batch handed to the engine and not acknowledged yet, with its count. */
    const pending: { received: number; last: ConsumeMessage }[] = [];

    return {
      async read(max, signal): Promise<SourceBatch> {
        await inbox.wait(c.block, signal);
        const messages = inbox.take(max);
        const records: DataRecord[] = [];
        const bad: RejectedRecord[] = [];
        for (const msg of messages) {
          const { fields, properties, content } = msg;
          const meta = {
            _exchange: fields.exchange,
            _routing_key: fields.routingKey,
            _redelivered: fields.redelivered,
            _message_id: typeof properties.messageId === "string" ? properties.messageId : null,
          };
          try {
            const record = decoder.decode(content);
            records.push(decoder.withMetadata ? withMetadata(record, meta) : record);
          } catch (err) {
            bad.push(decoder.undecoded(content, err, meta));
          }
        }
        handed += messages.length;
        if (messages.length > 0) pending.push({ received: handed, last: messages[messages.length - 1]! });
        return rejectedBatch(ctx, { records, offset: { received: handed }, end: false, idleMs: 1 }, bad);
      },

      async committed(offset) {
        const upTo = receivedCount(offset);
        let k = -1;
        while (k + 1 < pending.length && pending[k + 1]!.received <= upTo) k++;
        if (k < 0) return;
        const { last, received } = pending[k]!;
        pending.splice(0, k + 1);
        // On a closed channel the acknowledgement cannot be given: the broker redelivers (duplicates after a
        // failure, as documented) and the next read reports the loss.
        if (!open) return;
        try {
          ch.ack(last, true);
          acked = received;
        } catch (err) {
          // The channel is closing under us and the "close" event is on its way: the same outcome.
          lost(`the channel to ${where} failed: ${errorText(err)}`);
        }
      },

      async offsetLag() {
        if (!open) return undefined;
        const ready = ctx.partition === 0 ? await queueReady() : 0;
        return { value: ready + delivered - acked, unit: "messages" as const };
      },

      async close() {
        open = false;
        const lc = lagChannel;
        lagChannel = undefined;
        if (lc) await lc.then((x) => closeChannel(x)).catch(() => {});
        // Bounded: a connection that dropped a moment ago may never answer the close.
        await closeRabbitmq(connection);
      },
    };
  },
};
