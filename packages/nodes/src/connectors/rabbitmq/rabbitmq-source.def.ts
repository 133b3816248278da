import { Duration } from "@sluice/pipeline/duration";
import { defineNode, type InferIssue } from "@sluice/pipeline/node-definition";
import { field, t } from "@sluice/pipeline/record-schema";
import { z } from "zod";
import { checkSourcePayload, connectionField, sourcePayloadFields, sourceRecordSchema } from "../messaging/payload";

const payload = sourcePayloadFields(["json", "text", "bytes-base64"]);

const config = z
  .strictObject({
    connection: connectionField("rabbitmq", "RabbitMQ"),
    queue: z.string().min(1, "name a queue").max(255).meta({
      label: "Queue",
      help: "The queue to consume; it must exist.",
      placeholder: "orders",
      discover: "object",
    }),
    ...payload,
    fields: payload.fields.meta({ discover: "fields" }),
    prefetch: z.number().int().min(1).max(65_535).default(1000).meta({
      label: "Prefetch",
      help: "How many unacknowledged messages the broker may hand each partition (basic.qos); bounds memory, and a batch holds at most this many.",
      advanced: true,
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
  });

export type RabbitmqSourceConfig = z.output<typeof config>;

const RABBITMQ_METADATA = [
  field("_exchange", t.string, false, "the exchange it was published to (empty: the default exchange)"),
  field("_routing_key", t.string, false, "its routing key"),
  field("_redelivered", t.boolean, false, "the broker delivered it before"),
  field("_message_id", t.string, true, "the publisher's message id, if it set one"),
];

export const rabbitmqSourceDef = defineNode({
  type: "source.rabbitmq",
  version: 1,
  kind: "source",
  title: "RabbitMQ",
  category: "Messaging",
  icon: "rabbit",
  summary: "Consumes a RabbitMQ queue with manual acknowledgements, given only after each batch is committed.",
  docs: `Consumes messages from a queue (manual acknowledgement mode), each message becoming one record.

**At-least-once, not replayable.** A queue forgets a message once it is acknowledged, so the source cannot be
replayed: a pipeline from it is at-least-once. Nothing is acknowledged before it is safe: after the engine durably
commits a batch, the source acknowledges it with one \`basic.ack\` (multiple) up to the batch's last message. If a
worker dies or the connection drops before that, the broker requeues the unacknowledged messages and delivers them
again (marked redelivered) — to this run, so nothing is lost. A message can therefore arrive twice, and only after
a failure (between a batch's commit and its acknowledgement). Publishers can set a message id
(\`_message_id\` with *Add message metadata*) for a downstream dedupe or an upsert by key.

**Partitions.** Every partition consumes the same queue and the broker deals messages out among them (competing
consumers): order is kept only within a partition. *Prefetch* bounds how many unacknowledged messages each
partition holds.

**Payload.** By default a JSON object whose keys become the record's fields; \`text\` and \`bytes-base64\` put the
payload in one field. A message whose payload cannot be read goes to the dead-letter queue with the error and its
routing key, and the run goes on (it is acknowledged with its batch). With *Add message metadata* each record gets
\`_exchange\`, \`_routing_key\`, \`_redelivered\` and \`_message_id\`.

A queue that does not exist fails the run at start, saying so. The editor's data preview leaves this source out:
reading would take messages from the queue.`,
  inputs: [],
  outputs: [{ name: "out" }],
  config,
  examples: [
    { title: "JSON orders from a queue", config: { connection: "local-rabbit", queue: "orders" } },
    {
      title: "Typed fields with delivery metadata",
      config: {
        connection: "local-rabbit",
        queue: "payments",
        fields: ["payment_id", { name: "amount", type: "float" }],
        metadata: true,
        prefetch: 500,
      },
    },
  ],
  delivery: { replayable: false },
  eventTimeField: (c) => c.timeField,
  infer: ({ config: c }) => {
    const issues: InferIssue[] = [];
    return { outputs: { out: sourceRecordSchema(c, RABBITMQ_METADATA, issues) }, issues };
  },
  summarize: (c) => `${c.queue} · prefetch ${c.prefetch} · ${c.format}`,
});
