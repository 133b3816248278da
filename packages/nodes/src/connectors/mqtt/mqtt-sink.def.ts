import { defineNode } from "@sluice/pipeline/node-definition";
import { emptySchema } from "@sluice/pipeline/record-schema";
import { z } from "zod";
import { checkSinkPayload, connectionField, sinkPayloadFields, sinkPayloadIssues } from "../messaging/payload";

const config = z
  .strictObject({
    connection: connectionField("mqtt", "MQTT"),
    topic: z
      .string()
      .min(1, "name a topic")
      .max(65_535)
      .regex(/^[^+#]+$/, "a topic to publish to has no wildcards")
      .meta({
        label: "Topic",
        help: "The topic to publish to.",
        placeholder: "alerts/temperature",
        discover: "object",
      }),
    qos: z
      .union([z.literal(0), z.literal(1)])
      .default(1)
      .meta({
        label: "QoS",
        help: "1: every message is acknowledged by the broker before the batch counts as written (at-least-once). 0: sent without acknowledgement (at-most-once: a message can be lost if the connection drops).",
        widget: "select",
      }),
    retain: z.boolean().default(false).meta({
      label: "Retain",
      help: "Ask the broker to keep the last message of the topic for clients that subscribe later.",
      advanced: true,
    }),
    ...sinkPayloadFields(["json", "text", "bytes-base64"]),
    ackTimeout: z.number().int().min(100).max(600_000).default(10_000).meta({
      label: "Acknowledgement timeout (ms)",
      help: "How long to wait for the broker to acknowledge a batch before the write is retried.",
      advanced: true,
    }),
  })
  .superRefine((c, ctx) => checkSinkPayload(c, ctx));

export type MqttSinkConfig = z.output<typeof config>;

export const mqttSinkDef = defineNode({
  type: "sink.mqtt",
  version: 1,
  kind: "sink",
  title: "MQTT",
  category: "Messaging",
  icon: "radio-tower",
  summary: "Publishes records to an MQTT topic with QoS 0 or 1.",
  docs: `Publishes each record as one message to a topic.

**QoS 1** (default): the batch counts as written once the broker has acknowledged (PUBACK) every message of it;
until then the engine does not commit it, and a failed write is retried. MQTT has no way to recognise a message
sent twice, so after a failure some messages of a batch may be published again: the sink is at-least-once, never
idempotent. **QoS 0** sends without acknowledgements: cheaper, but a message can be lost when the connection drops,
so a pipeline into it is at most once for what was in flight.

**Payload.** By default the record as JSON; \`text\` or \`bytes-base64\` send one field of the record. *Retain* asks
the broker to keep the topic's last message for later subscribers.

The client reconnects by itself after a drop; while the broker is away, writes fail and are retried with backoff.`,
  inputs: [{ name: "in", multiple: true }],
  outputs: [],
  config,
  examples: [
    { title: "Alerts as JSON, QoS 1", config: { connection: "local-mqtt", topic: "alerts/temperature" } },
    {
      title: "A retained status text, QoS 0",
      config: {
        connection: "local-mqtt",
        topic: "status/line-4",
        qos: 0,
        retain: true,
        format: "text",
        valueField: "status",
      },
    },
  ],
  delivery: { idempotent: false },
  infer: ({ config: c, inputs }) => ({ outputs: {}, issues: sinkPayloadIssues(c, inputs.in ?? emptySchema) }),
  summarize: (c) => `${c.topic} · QoS ${c.qos}${c.retain ? " · retained" : ""}`,
});
