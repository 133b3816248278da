import type { DataRecord } from "@sluice/pipeline/record-schema";
import type { IPublishPacket, MqttClient } from "mqtt";
import type { RejectedRecord, SourceBatch, SourceOffset, SourceReader, SourceRuntime } from "../../runtime-contract";
import { NodeConfigError } from "../../runtime-expressions";
import { PayloadDecoder, withMetadata } from "../messaging/codec";
import { errorText, openError } from "../messaging/connection-problems";
import { Inbox } from "../messaging/inbox";
import { rejectedBatch } from "../messaging/rejected";
import { connectMqtt, diagnoseMqtt, mqttConfig, mqttWhere } from "./mqtt-client";
import { type MqttSourceConfig, mqttTopics } from "./mqtt-source.def";

// QoS 1 in a persistent session, with every PUBACK held back until the engine has committed the batch holding the
// message. mqtt.js acknowledges a QoS 1 message as soon as its handler returns, and its one hook for doing it later
// (customHandleAcks) stops the whole connection's packet processing until the ack is given — one message per
// commit. So the client's PUBACK packets are taken aside as mqtt.js sends them and written, in order, once
// committed. A dropped connection fails the reader; the engine opens it again and the broker redelivers whatever
// was not acknowledged.

interface Received {
  topic: string;
  payload: Buffer;
  packet: IPublishPacket;
}

/** The client's internal send, through which it writes PUBACKs (not part of mqtt.js's typed API). */
type PacketSender = (
  packet: { cmd: string; messageId?: number },
  cb?: (err?: Error) => void,
  ...rest: unknown[]
) => void;

function receivedCount(from: SourceOffset | null): number {
  if (from === null || typeof from !== "object" || Array.isArray(from)) return 0;
  const n = (from as { received?: unknown }).received;
  return typeof n === "number" && Number.isSafeInteger(n) && n >= 0 ? n : 0;
}

/** Holds back a client's PUBACKs; returns the function that sends them for real. */
function holdAcks(client: MqttClient): PacketSender {
  const internal = client as unknown as { _sendPacket: PacketSender };
  const send = internal._sendPacket.bind(client);
  internal._sendPacket = (packet, cb, ...rest) => {
    if (packet.cmd === "puback") {
      cb?.();
      return;
    }
    send(packet, cb, ...rest);
  };
  return send;
}

export const mqttSourceRuntime: SourceRuntime<MqttSourceConfig> = {
  kind: "source",
  type: "source.mqtt",
  async open(ctx, from): Promise<SourceReader> {
    const c = ctx.config;
    const base = receivedCount(from);
    const shared = c.shared && ctx.partitions > 1;
    const subscribes = ctx.mode !== "preview" && (shared || ctx.partition === 0);
    if (!subscribes) {
      return {
        async read() {
          return { records: [], offset: { received: base }, end: ctx.mode === "preview", idleMs: 1000 };
        },
        async close() {},
      };
    }
    const conn = mqttConfig(ctx.services.connections.get(c.connection, "mqtt"));
    const where = mqttWhere(conn);
    const prefix = c.clientId ?? `sluice-${ctx.runId}-${ctx.nodeId}`;
    const group = `sluice-${ctx.runId}-${ctx.nodeId}`.replace(/[/+#]/g, "_");
    const filters = mqttTopics(c).map((t) => (shared ? `$share/${group}/${t}` : t));
    const inbox = new Inbox<Received>();
    let sendPacket: PacketSender | undefined;
    let client: MqttClient;
    try {
      client = await connectMqtt(
        conn,
        {
          clientId: `${prefix}-${ctx.partition}`,
          persistent: true,
          sessionExpiry: Math.round(c.sessionExpiry / 1000),
          receiveMaximum: c.maxInflight,
          reconnect: false,
        },
        ctx.services.destinations.for(c.connection),
        (cl) => {
          sendPacket = holdAcks(cl);
          cl.on("message", (topic, payload, packet) => inbox.push({ topic, payload, packet }));
          cl.on("close", () =>
            inbox.fail(
              new Error(`the connection to ${where} was lost; the broker redelivers what was not acknowledged`),
            ),
          );
          cl.on("error", (err) => inbox.fail(new Error(`${where}: ${errorText(err)}`)));
        },
      );
      const granted = await client.subscribeAsync(filters, { qos: 1 });
      const refused = granted.filter((g) => g.qos !== 0 && g.qos !== 1 && g.qos !== 2);
      if (refused.length > 0) {
        client.end(true);
        throw new NodeConfigError(
          ctx.nodeId,
          "topic",
          `${where} refused the subscription to ${refused.map((g) => g.topic).join(", ")} (not authorised for it?)`,
        );
      }
    } catch (err) {
      if (err instanceof NodeConfigError) throw err;
      throw openError(ctx, c.connection, diagnoseMqtt(err, where));
    }
    const connection = client;
    const ack = sendPacket!;
    const decoder = new PayloadDecoder(c);
    let handed = base;
    let acked = base;
    // Packet ids of the QoS 1 messages handed to the engine and not acknowledged yet, in arrival order; QoS 0
    // messages have none (0 here) and need no acknowledgement.
    const unacked: number[] = [];

    return {
      async read(max, signal): Promise<SourceBatch> {
        await inbox.wait(c.block, signal);
        const records: DataRecord[] = [];
        const bad: RejectedRecord[] = [];
        for (const { topic, payload, packet } of inbox.take(max)) {
          handed++;
          unacked.push(packet.qos > 0 && packet.messageId !== undefined ? packet.messageId : 0);
          const meta = { _topic: topic, _redelivered: packet.dup };
          try {
            const record = decoder.decode(payload);
            records.push(decoder.withMetadata ? withMetadata(record, meta) : record);
          } catch (err) {
            bad.push(decoder.undecoded(payload, err, meta));
          }
        }
        return rejectedBatch(ctx, { records, offset: { received: handed }, end: false, idleMs: 1 }, bad);
      },

      async committed(offset) {
        const upTo = receivedCount(offset);
        const n = Math.min(upTo - acked, unacked.length);
        if (n <= 0) return;
        const ids = unacked.splice(0, n);
        acked += n;
        // A lost connection loses these acknowledgements: the broker redelivers the messages (duplicates after a
        // failure, as documented), and the next read reports the loss.
        if (!connection.connected) return;
        for (const id of ids) if (id !== 0) ack({ cmd: "puback", messageId: id });
      },

      async close() {
        connection.end(true);
      },
    };
  },
};
