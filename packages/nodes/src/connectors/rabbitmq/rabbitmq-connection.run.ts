import type { DataRecord } from "@sluice/pipeline/record-schema";
import type { ChannelModel, GetMessage } from "amqplib";
import type { ConnectionRuntime } from "../../connection-runtime";
import { abortable, errorText, failed } from "../messaging/connection-problems";
import { sampleFields, sampleRecord } from "../messaging/sample-fields";
import { closeRabbitmq, connectRabbitmq, diagnoseRabbitmq, rabbitmqConfig, rabbitmqWhere } from "./rabbitmq-client";
import type { RabbitmqConnectionConfig } from "./rabbitmq-connection.def";

// "Test connection" and discovery for RabbitMQ: connect, authenticate, open the virtual host; a named queue's
// message count and a few messages, taken with basic.get and put back with nack(requeue). Server-only.

export const rabbitmqConnectionRuntime: ConnectionRuntime<RabbitmqConnectionConfig> = {
  type: "rabbitmq",
  async test(raw, signal, destinations) {
    let c: RabbitmqConnectionConfig;
    try {
      c = rabbitmqConfig(raw);
    } catch (err) {
      return { ok: false, problem: "misconfigured", message: errorText(err) };
    }
    const where = rabbitmqWhere(c);
    let model: ChannelModel | undefined;
    try {
      model = await abortable(connectRabbitmq(c, "test-connection", destinations), signal);
      const props = model.connection.serverProperties;
      const version = typeof props.version === "string" ? props.version : "?";
      return {
        ok: true,
        message: `connected to ${where} (${typeof props.product === "string" ? props.product : "AMQP broker"} ${version})`,
        details: { version },
      };
    } catch (err) {
      if (signal.aborted) return { ok: false, problem: "timeout", message: `${where} did not answer in time` };
      return failed(diagnoseRabbitmq(err, where));
    } finally {
      await closeRabbitmq(model);
    }
  },

  async discover(raw, request, signal, destinations) {
    const c = rabbitmqConfig(raw);
    const where = rabbitmqWhere(c);
    if (request.object === undefined) return { objects: [] };
    const queue = request.object;
    const model = await abortable(connectRabbitmq(c, "discovery", destinations), signal).catch((err: unknown) => {
      throw new Error(diagnoseRabbitmq(err, where).message);
    });
    try {
      const channel = await model.createChannel();
      channel.on("error", () => {});
      const info = await channel.checkQueue(queue).catch((err: unknown) => {
        throw new Error(diagnoseRabbitmq(err, where).message);
      });
      const want = Math.max(0, Math.min(request.sample ?? 10, info.messageCount));
      const taken: GetMessage[] = [];
      for (let i = 0; i < want && !signal.aborted; i++) {
        const msg = await channel.get(queue, { noAck: false });
        if (!msg) break;
        taken.push(msg);
      }
      // Back to the queue, all at once.
      if (taken.length > 0) channel.nack(taken[taken.length - 1]!, true, true);
      const sample: DataRecord[] = taken.map((m) => sampleRecord(m.content.toString("utf8")));
      return {
        objects: [{ kind: "queue", name: queue, rows: info.messageCount, fields: sampleFields(sample) }],
        ...(request.sample ? { sample } : {}),
      };
    } finally {
      await closeRabbitmq(model);
    }
  },
};
