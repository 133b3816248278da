import { Duration } from "@sluice/pipeline/duration";
import { defineNode, type InferIssue } from "@sluice/pipeline/node-definition";
import { field, t } from "@sluice/pipeline/record-schema";
import { z } from "zod";
import { checkSourcePayload, connectionField, sourcePayloadFields, sourceRecordSchema } from "../messaging/payload";

const TopicFilter = z
  .string()
  .min(1, "name a topic")
  .max(65_535)
  .refine((f) => !f.startsWith("$share/"), "give the plain topic; shared subscriptions are set up for you")
  .refine(
    (f) => f.split("/").every((level, i, all) => (level.includes("#") ? level === "#" && i === all.length - 1 : true)),
    "# stands alone as the last level of a topic filter",
  )
  .refine((f) => f.split("/").every((level) => !level.includes("+") || level === "+"), "+ stands alone in a level");

const payload = sourcePayloadFields(["json", "text", "bytes-base64"]);

const config = z
  .strictObject({
    connection: connectionField("mqtt", "MQTT"),
    topic: z.union([TopicFilter, z.array(TopicFilter).min(1).max(100)]).meta({
      label: "Topic",
      help: "A topic filter (+ and # wildcards), or several.",
      discover: "object",
      placeholder: "sensors/+/temperature",
      examples: ["sensors/+/temperature", ["factory/#", "alerts/#"]],
    }),
    shared: z.boolean().default(true).meta({
      label: "Spread over partitions",
      help: "Subscribe every partition through an MQTT shared subscription ($share/…), so the broker spreads messages over them. Off: partition 0 subscribes alone.",
      advanced: true,
    }),
    clientId: z
      .string()
      .min(1)
      .max(100)
      .regex(/^[A-Za-z0-9_.:-]+$/, "a client id prefix is letters, digits and _ . : -")
      .optional()
      .meta({
        label: "Client id prefix",
        help: "Prefix of the client ids (…-<partition> is added). Empty: sluice-<run>-<node>. Each run and partition keeps its own persistent session.",
        advanced: true,
      }),
    ...payload,
    fields: payload.fields.meta({ discover: "fields" }),
    maxInflight: z.number().int().min(1).max(65_535).default(1000).meta({
      label: "Messages in flight",
      help: "How many received but not yet committed messages the broker may send (MQTT 5 Receive Maximum); bounds memory.",
      advanced: true,
    }),
    sessionExpiry: Duration.prefault("7d").meta({
      label: "Keep the session for",
      help: "How long the broker keeps the session, and queues messages for it, while no worker is connected (MQTT 5).",
      advanced: true,
      widget: "duration",
    }),
    block: Duration.prefault("100ms").meta({
      label: "Wait for new messages",
      help: "How long one read waits for messages when none are there (e.g. 100ms); at most 5s.",
      advanced: true,
      widget: "duration",
    }),
  })
  .superRefine((c, ctx) => {
    checkSourcePayload(c, ctx);
    if (c.block > 5000) ctx.addIssue({ code: "custom", path: ["block"], message: "wait at most 5s" });
    if (c.sessionExpiry > 0xffff_fffe * 1000) {
      ctx.addIssue({ code: "custom", path: ["sessionExpiry"], message: "at most 136 years" });
    }
  });

export type MqttSourceConfig = z.output<typeof config>;

export function mqttTopics(c: { topic: string | string[] }): string[] {
  return Array.isArray(c.topic) ? c.topic : [c.topic];
}

const MQTT_METADATA = [
  field("_topic", t.string, false, "the message's topic"),
  field("_redelivered", t.boolean, false, "the broker sent it before (DUP flag)"),
];

export const mqttSourceDef = defineNode({
  type: "source.mqtt",
  version: 1,
  kind: "source",
  title: "MQTT",
  category: "Messaging",
  icon: "radio-tower",
  summary: "Subscribes to MQTT topics with QoS 1, acknowledging each message only after its batch is committed.",
  docs: `Subscribes to one or more topic filters with QoS 1 in a persistent session, each message becoming one record.

**At-least-once, not replayable.** An MQTT broker keeps no history to read again, so the source cannot be
replayed: a pipeline from it is at-least-once. What it guarantees is that nothing is lost: every QoS 1 message is
acknowledged (PUBACK) only after the engine has durably committed the batch that holds it. Should a worker die
before that, the broker still holds the message in the partition's session and delivers it again (flagged as a
redelivery), and the run reads it then. A message can therefore arrive twice, and only after a failure: when a
worker dies, its connection drops, or the broker goes away between the commit of a batch and its
acknowledgements. Put an idempotent sink (upsert by a message key) behind it when duplicates matter.

**Sessions.** Each run and partition has its own client id (\`sluice-<run>-<node>-<partition>\`) and a persistent
session (clean start off) that the broker keeps for *Keep the session for* while no worker is connected, queueing
QoS 1 messages for it. Brokers bound that queue (Mosquitto: \`max_queued_messages\`, 1000 by default) and drop what
does not fit: size it for the longest outage to survive. The broker may send up to *Messages in flight* messages
before the first acknowledgement (MQTT 5 Receive Maximum; MQTT 3.1.1 brokers use their own limit, Mosquitto 20,
which slows the source down).

**Partitions.** With *Spread over partitions* (default), every partition subscribes through a shared subscription
(\`$share/sluice-<run>-<node>/<filter>\`) and the broker deals messages out among them. Off, or with parallelism 1,
partition 0 subscribes alone. Order is kept per partition as the broker delivers it.

**Payload.** By default a JSON object whose keys become the record's fields; \`text\` and \`bytes-base64\` put the
payload in one field. A message whose payload cannot be read goes to the dead-letter queue with the error and its
topic, and the run goes on. With *Add message metadata* each record gets \`_topic\` and \`_redelivered\`.

The editor's data preview leaves this source out: reading would take messages from the subscription.`,
  inputs: [],
  outputs: [{ name: "out" }],
  config,
  examples: [
    { title: "Temperature readings as JSON", config: { connection: "local-mqtt", topic: "sensors/+/temperature" } },
    {
      title: "Typed readings with their topic",
      config: {
        connection: "local-mqtt",
        topic: "factory/#",
        fields: ["machine", { name: "value", type: "float" }, { name: "ts", type: "timestamp", nullable: false }],
        metadata: true,
        timeField: "ts",
      },
    },
  ],
  delivery: { replayable: false },
  eventTimeField: (c) => c.timeField,
  infer: ({ config: c }) => {
    const issues: InferIssue[] = [];
    return { outputs: { out: sourceRecordSchema(c, MQTT_METADATA, issues) }, issues };
  },
  summarize: (c) => {
    const topics = mqttTopics(c);
    return `${topics.length === 1 ? topics[0] : `${topics.length} topics`} · QoS 1 · ${c.format}`;
  },
});
