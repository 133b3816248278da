import type { MqttClient } from "mqtt";
import type { SinkRuntime } from "../../runtime-contract";
import { PayloadEncoder } from "../messaging/codec";
import { errorText, openError } from "../messaging/connection-problems";
import { connectMqtt, diagnoseMqtt, mqttConfig, mqttWhere } from "./mqtt-client";
import type { MqttSinkConfig } from "./mqtt-sink.def";

// Publish a batch without waiting between messages, then wait for every PUBACK (QoS 1) or for the messages to be
// written to the socket (QoS 0). Nothing is queued while the broker is away: the write fails and the engine retries.

function timeout(ms: number, what: string): { promise: Promise<never>; cancel: () => void } {
  let timer: NodeJS.Timeout | undefined;
  const promise = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(what)), ms);
  });
  return { promise, cancel: () => clearTimeout(timer) };
}

export const mqttSinkRuntime: SinkRuntime<MqttSinkConfig> = {
  kind: "sink",
  type: "sink.mqtt",
  async open(ctx) {
    const c = ctx.config;
    const conn = mqttConfig(ctx.services.connections.get(c.connection, "mqtt"));
    const where = mqttWhere(conn);
    let client: MqttClient;
    try {
      client = await connectMqtt(
        conn,
        {
          clientId: `sluice-${ctx.runId}-${ctx.nodeId}-${ctx.partition}-${process.pid}`,
          persistent: false,
          reconnect: true,
        },
        ctx.services.destinations.for(c.connection),
      );
    } catch (err) {
      throw openError(ctx, c.connection, diagnoseMqtt(err, where));
    }
    client.on("error", () => {});
    const connection = client;
    const encoder = new PayloadEncoder(c);

    return {
      async write(records) {
        if (records.length === 0) return;
        if (!connection.connected) throw new Error(`not connected to ${where}; retrying when it is back`);
        const sent = records.map((r) =>
          connection.publishAsync(c.topic, encoder.encode(r), { qos: c.qos, retain: c.retain }),
        );
        const limit = timeout(c.ackTimeout, `${where} did not acknowledge the batch within ${c.ackTimeout} ms`);
        try {
          await Promise.race([Promise.all(sent), limit.promise]);
        } catch (err) {
          throw new Error(`publishing to "${c.topic}" on ${where} failed: ${errorText(err)}`);
        } finally {
          limit.cancel();
          for (const p of sent) p.catch(() => {});
        }
      },
      async close() {
        await connection.endAsync(true).catch(() => {});
      },
    };
  },
};
