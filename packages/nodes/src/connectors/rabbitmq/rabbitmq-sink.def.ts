import { checkExpression } from "@sluice/pipeline/expr/compile";
import { defineNode, type InferIssue } from "@sluice/pipeline/node-definition";
import { emptySchema } from "@sluice/pipeline/record-schema";
import { z } from "zod";
import { expressionIssues, parameterInfo } from "../../expression-issues";
import { checkSinkPayload, connectionField, sinkPayloadFields, sinkPayloadIssues } from "../messaging/payload";

const config = z
  .strictObject({
    connection: connectionField("rabbitmq", "RabbitMQ"),
    exchange: z.string().max(255).default("").meta({
      label: "Exchange",
      help: "The exchange to publish to; it must exist. Empty: the default exchange, which routes to the queue named by the routing key.",
      placeholder: "orders",
    }),
    routingKey: z.string().max(255).default("").meta({
      label: "Routing key",
      help: "The routing key of every message (with the default exchange: the queue's name).",
      placeholder: "orders.created",
    }),
    routingKeyExpression: z
      .string()
      .min(1)
      .max(65_536)
      .optional()
      .meta({
        label: "Routing key per record",
        help: "A SQL expression computing each record's routing key, e.g. 'orders.' || country. NULL falls back to the routing key above.",
        widget: "expression",
        examples: ["'orders.' || LOWER(country)", "CASE WHEN amount > 1000 THEN 'orders.big' ELSE 'orders.small' END"],
      }),
    ...sinkPayloadFields(["json", "text", "bytes-base64"]),
    persistent: z.boolean().default(true).meta({
      label: "Persistent messages",
      help: "Delivery mode 2: durable queues keep the messages across a broker restart.",
      advanced: true,
    }),
    ackTimeout: z.number().int().min(100).max(600_000).default(10_000).meta({
      label: "Confirmation timeout (ms)",
      help: "How long to wait for the broker to confirm a batch before the write is retried.",
      advanced: true,
    }),
  })
  .superRefine((c, ctx) => {
    checkSinkPayload(c, ctx);
    if (c.exchange === "" && c.routingKey === "" && c.routingKeyExpression === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["routingKey"],
        message: "with the default exchange the routing key names the queue: give one",
      });
    }
  });

export type RabbitmqSinkConfig = z.output<typeof config>;

export const rabbitmqSinkDef = defineNode({
  type: "sink.rabbitmq",
  version: 1,
  kind: "sink",
  title: "RabbitMQ",
  category: "Messaging",
  icon: "rabbit",
  summary: "Publishes records to a RabbitMQ exchange with publisher confirms.",
  docs: `Publishes each record as one persistent message to an exchange, with a fixed routing key or one computed per
record, on a confirm channel: the batch counts as written only when the broker has confirmed every message of it.

**At-least-once.** AMQP has no way to recognise a message published twice, so a batch written again (after a crash
before the engine's commit, or a retry) can publish some messages twice; the sink is not idempotent. Each message
carries a message id made of the batch id, its index and a hash of its content, the same when the same batch is
written again, so consumers can drop copies. Within one worker, a retried batch republishes only the messages the
broker did not confirm.

**Routing.** Messages are published *mandatory*: one that no queue receives (no binding matches its routing key) is
returned by the broker, and the write fails saying so — it is retried, and the run does not go on as if it had been
delivered. The exchange (and, with the default exchange and a fixed routing key, the queue) must exist: otherwise
the run fails at start, saying which. A record whose routing key expression fails holds its batch (the write is
retried and the error logged).

**Payload.** By default the record as JSON (\`content-type: application/json\`); \`text\` or \`bytes-base64\` send one
field of the record.`,
  inputs: [{ name: "in", multiple: true }],
  outputs: [],
  config,
  examples: [
    { title: "Straight into a queue", config: { connection: "local-rabbit", routingKey: "orders-enriched" } },
    {
      title: "To a topic exchange, routed by country",
      config: { connection: "local-rabbit", exchange: "orders", routingKeyExpression: "'orders.' || LOWER(country)" },
    },
  ],
  delivery: { idempotent: false },
  infer: ({ config: c, inputs, parameters }) => {
    const input = inputs.in ?? emptySchema;
    const issues: InferIssue[] = sinkPayloadIssues(c, input);
    if (c.routingKeyExpression !== undefined) {
      const checked = checkExpression(
        c.routingKeyExpression,
        { schema: input, parameters: parameterInfo(parameters) },
        "scalar",
      );
      issues.push(...expressionIssues(checked.errors, ["routingKeyExpression"]));
    }
    return { outputs: {}, issues };
  },
  summarize: (c) =>
    `${c.exchange === "" ? "default exchange" : c.exchange} · ${c.routingKeyExpression ?? (c.routingKey || "—")}`,
});
