import { randomBytes } from "node:crypto";
import type { DataRecord } from "@sluice/pipeline/record-schema";
import type { MqttClient } from "mqtt";
import type { ConnectionRuntime, DiscoveredObject } from "../../connection-runtime";
import { abortable, errorText, failed } from "../messaging/connection-problems";
import { sampleFields, sampleRecord } from "../messaging/sample-fields";
import { connectMqtt, diagnoseMqtt, mqttConfig, mqttWhere } from "./mqtt-client";
import type { MqttConnectionConfig } from "./mqtt-connection.def";

// "Test connection" and discovery for MQTT: connect and authenticate; MQTT cannot list topics, so discovery listens
// for a moment (QoS 0, a throwaway clean session: nothing is taken from anyone) and reports what it heard.

const LISTEN_MS = 2000;
const MAX_TOPICS = 500;

function probeId(): string {
  return `sluice-probe-${randomBytes(6).toString("hex")}`;
}

export const mqttConnectionRuntime: ConnectionRuntime<MqttConnectionConfig> = {
  type: "mqtt",
  async test(raw, signal, destinations) {
    let c: MqttConnectionConfig;
    try {
      c = mqttConfig(raw);
    } catch (err) {
      return { ok: false, problem: "misconfigured", message: errorText(err) };
    }
    const where = mqttWhere(c);
    let client: MqttClient | undefined;
    try {
      client = await abortable(
        connectMqtt(c, { clientId: probeId(), persistent: false, reconnect: false }, destinations),
        signal,
      );
      return {
        ok: true,
        message: `connected to ${where} (MQTT ${c.protocolVersion})`,
        details: { protocolVersion: c.protocolVersion },
      };
    } catch (err) {
      if (signal.aborted) return { ok: false, problem: "timeout", message: `${where} did not answer in time` };
      return failed(diagnoseMqtt(err, where));
    } finally {
      client?.end(true);
    }
  },

  async discover(raw, request, signal, destinations) {
    const c = mqttConfig(raw);
    const where = mqttWhere(c);
    const client = await abortable(
      connectMqtt(c, { clientId: probeId(), persistent: false, reconnect: false }, destinations),
      signal,
    ).catch((err: unknown) => {
      throw new Error(diagnoseMqtt(err, where).message);
    });
    try {
      const want = Math.max(0, request.sample ?? 10);
      const topics = new Map<string, DataRecord[]>();
      client.on("message", (topic, payload) => {
        let samples = topics.get(topic);
        if (!samples) {
          if (topics.size >= MAX_TOPICS) return;
          samples = [];
          topics.set(topic, samples);
        }
        if (samples.length < Math.max(want, 5)) samples.push(sampleRecord(payload.toString("utf8")));
      });
      await client.subscribeAsync(request.object ?? "#", { qos: 0 });
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, LISTEN_MS);
        signal.addEventListener("abort", () => {
          clearTimeout(timer);
          resolve(undefined);
        });
      });
      const objects: DiscoveredObject[] = [...topics].map(([name, samples]) => ({
        kind: "topic",
        name,
        fields: sampleFields(samples),
      }));
      const sample = [...topics.values()].flat().slice(0, want);
      return { objects, ...(request.sample ? { sample } : {}) };
    } finally {
      client.end(true);
    }
  },
};
