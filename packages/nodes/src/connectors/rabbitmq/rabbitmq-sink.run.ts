import { compileExpression } from "@sluice/pipeline/expr/compile";
import type { DataRecord } from "@sluice/pipeline/record-schema";
import type { ChannelModel, ConfirmChannel, Message } from "amqplib";
import type { BatchInfo, RuntimeContext, SinkRuntime } from "../../runtime-contract";
import { type FailRecord, rejectOrThrow } from "../../runtime-contract";
import { NodeConfigError, runtimeCompileOptions, unwrapCompiled } from "../../runtime-expressions";
import { messageId, PayloadEncoder } from "../messaging/codec";
import { errorText, openError } from "../messaging/connection-problems";
import {
  closeChannel,
  closeRabbitmq,
  connectRabbitmq,
  diagnoseRabbitmq,
  rabbitmqConfig,
  rabbitmqWhere,
} from "./rabbitmq-client";
import type { RabbitmqSinkConfig } from "./rabbitmq-sink.def";

// A confirm channel: publish the batch (mandatory, persistent), then wait for the broker's confirmations. Messages
// no queue took come back (basic.return, before their confirmation) and fail the write. Within this process a
// retried batch republishes only what was not confirmed; a connection that was lost, or that failed to confirm in
// time, is dropped and a new one opened on the next write.

const CONTENT_TYPES = {
  json: "application/json",
  text: "text/plain; charset=utf-8",
  "bytes-base64": "application/octet-stream",
};

interface Link {
  model: ChannelModel;
  channel: ConfirmChannel;
  closed: boolean;
  returned: Set<string>;
}

interface Attempt {
  batchId: string;
  ids: string[];
  confirmed: boolean[];
}

async function link(ctx: RuntimeContext<RabbitmqSinkConfig>): Promise<Link> {
  const c = ctx.config;
  const conn = rabbitmqConfig(ctx.services.connections.get(c.connection, "rabbitmq"));
  const where = rabbitmqWhere(conn);
  let model: ChannelModel | undefined;
  try {
    model = await connectRabbitmq(
      conn,
      `${ctx.runId}:${ctx.nodeId}:${ctx.partition}`,
      ctx.services.destinations.for(c.connection),
    );
    const check = await model.createChannel();
    check.on("error", () => {});
    try {
      if (c.exchange !== "") await check.checkExchange(c.exchange);
      else if (c.routingKeyExpression === undefined) await check.checkQueue(c.routingKey);
    } catch (err) {
      if (diagnoseRabbitmq(err, where).problem === "not-found") {
        throw new NodeConfigError(
          ctx.nodeId,
          c.exchange !== "" ? "exchange" : "routingKey",
          c.exchange !== ""
            ? `there is no exchange "${c.exchange}" on ${where}`
            : `there is no queue "${c.routingKey}" on ${where} for the default exchange to route to`,
        );
      }
      throw err;
    }
    await closeChannel(check);
    const channel = await model.createConfirmChannel();
    const l: Link = { model, channel, closed: false, returned: new Set() };
    channel.on("error", () => {});
    channel.on("close", () => {
      l.closed = true;
    });
    model.on("close", () => {
      l.closed = true;
    });
    channel.on("return", (msg: Message) => {
      const id = msg.properties.messageId;
      if (typeof id === "string") l.returned.add(id);
    });
    return l;
  } catch (err) {
    await closeRabbitmq(model);
    if (err instanceof NodeConfigError) throw err;
    throw openError(ctx, c.connection, diagnoseRabbitmq(err, where));
  }
}

export const rabbitmqSinkRuntime: SinkRuntime<RabbitmqSinkConfig> = {
  kind: "sink",
  type: "sink.rabbitmq",
  async open(ctx) {
    const c = ctx.config;
    const where = rabbitmqWhere(rabbitmqConfig(ctx.services.connections.get(c.connection, "rabbitmq")));
    let current: Link | undefined = await link(ctx);
    const encoder = new PayloadEncoder(c);
    const contentType = CONTENT_TYPES[c.format as keyof typeof CONTENT_TYPES];
    const routingKeyOf =
      c.routingKeyExpression === undefined
        ? undefined
        : unwrapCompiled(
            compileExpression(c.routingKeyExpression, runtimeCompileOptions(ctx, "in")),
            ctx,
            "routingKeyExpression",
          ).evaluate;
    let attempt: Attempt | undefined;

    return {
      async write(records: readonly DataRecord[], batch: BatchInfo, fail?: FailRecord) {
        if (records.length === 0) return;
        if (!current || current.closed) {
          const old = current;
          current = undefined;
          await closeRabbitmq(old?.model);
          current = await link(ctx);
        }
        const l = current;
        const payloads = records.map((r) => encoder.encode(r));
        const ids = payloads.map((p, i) => messageId(batch.batchId, i, p));
        const again =
          attempt !== undefined &&
          attempt.batchId === batch.batchId &&
          attempt.ids.length === ids.length &&
          attempt.ids.every((id, i) => id === ids[i]);
        if (!again) attempt = { batchId: batch.batchId, ids, confirmed: ids.map(() => false) };
        const a = attempt!;
        for (let i = 0; i < records.length; i++) {
          if (a.confirmed[i]) continue;
          let key = c.routingKey;
          if (routingKeyOf) {
            try {
              const v = routingKeyOf(records[i]!);
              if (v !== null && v !== undefined) key = String(v);
            } catch (err) {
              rejectOrThrow(fail, i, records[i]!, `routing key: ${errorText(err)}`);
              a.confirmed[i] = true;
              continue;
            }
          }
          l.returned.delete(ids[i]!);
          try {
            l.channel.publish(
              c.exchange,
              key,
              Buffer.isBuffer(payloads[i]) ? (payloads[i] as Buffer) : Buffer.from(payloads[i] as string, "utf8"),
              { persistent: c.persistent, mandatory: true, messageId: ids[i]!, contentType },
              (err: unknown) => {
                if (!err && !l.returned.has(ids[i]!)) a.confirmed[i] = true;
              },
            );
          } catch (err) {
            // The channel closed under us (amqplib throws "Channel closed"): the retry opens a new one.
            l.closed = true;
            throw new Error(`publishing to ${where} failed: ${diagnoseRabbitmq(err, where).message}`);
          }
        }
        let timer: NodeJS.Timeout | undefined;
        try {
          await Promise.race([
            l.channel.waitForConfirms(),
            new Promise((_, reject) => {
              timer = setTimeout(() => reject(new Error(`no confirmation within ${c.ackTimeout} ms`)), c.ackTimeout);
            }),
          ]);
        } catch (err) {
          // Confirmations lost (the channel or connection closed) or late (a connection that died silently, a
          // broker in trouble): this link cannot be trusted with the retry, which opens a new one.
          l.closed = true;
          throw new Error(`publishing to ${where} failed: ${diagnoseRabbitmq(err, where).message}`);
        } finally {
          clearTimeout(timer);
        }
        const unrouted = ids.filter((id) => l.returned.has(id)).length;
        if (unrouted > 0) {
          throw new Error(
            `${unrouted} of ${records.length} messages were returned by ${where}: no queue is bound to exchange "${c.exchange || "(default)"}" for their routing key`,
          );
        }
        if (a.confirmed.some((ok) => !ok)) throw new Error(`${where} did not confirm every message of the batch`);
      },
      async close() {
        const old = current;
        current = undefined;
        await closeRabbitmq(old?.model);
      },
    };
  },
};
