import { defineNode } from "@sluice/pipeline/node-definition";
import { emptySchema } from "@sluice/pipeline/record-schema";
import { z } from "zod";
import { checkSinkPayload, connectionField, sinkPayloadFields, sinkPayloadIssues } from "../messaging/payload";

const config = z
  .strictObject({
    connection: connectionField("nats", "NATS"),
    subject: z
      .string()
      .min(1, "name a subject")
      .max(1024)
      .regex(/^[^\s*>]+$/, "a subject to publish to has no spaces and no wildcards")
      .meta({
        label: "Subject",
        help: "The subject to publish to; a JetStream stream must capture it.",
        placeholder: "orders.enriched",
      }),
    ...sinkPayloadFields(["json", "text", "bytes-base64"]),
    ackTimeout: z.number().int().min(100).max(600_000).default(10_000).meta({
      label: "Acknowledgement timeout (ms)",
      help: "How long to wait for the stream to acknowledge a batch before the write is retried.",
      advanced: true,
    }),
  })
  .superRefine((c, ctx) => checkSinkPayload(c, ctx));

export type NatsSinkConfig = z.output<typeof config>;

export const natsSinkDef = defineNode({
  type: "sink.nats-jetstream",
  version: 1,
  kind: "sink",
  title: "NATS JetStream",
  category: "Messaging",
  icon: "radio",
  summary: "Publishes records to a JetStream subject and waits for the stream's acknowledgements.",
  docs: `Publishes each record as one message to a subject captured by a JetStream stream, and waits for the stream
to acknowledge (PubAck) every message of the batch before the engine commits it. Messages of a batch are published
without waiting for each other, so the batch costs about one round trip.

**Idempotent within the duplicate window.** Every message carries a \`Nats-Msg-Id\` made of the batch id, its index in
the batch and a hash of its content. When the engine writes a batch again after a crash, the stream recognises
the ids it already stored and drops the copies (the PubAck says \`duplicate\`), so with a replayable source the
pipeline is exactly-once — as long as the replay comes within the stream's duplicate window (\`duplicate_window\`,
2 minutes by default; a failed-over partition usually replays within seconds). Widen the window on the stream for
longer outages. A replay carrying other records (a non-replayable source redelivers what it likes) gets other ids
and is published: duplicates are then possible, never loss.

**Payload.** By default the record as JSON; \`text\` or \`bytes-base64\` send one field of the record.

When no stream captures the subject the run fails at start, saying so; while the server is away, writes are
retried with backoff.`,
  inputs: [{ name: "in", multiple: true }],
  outputs: [],
  config,
  examples: [
    { title: "Records as JSON", config: { connection: "local-nats", subject: "orders.enriched" } },
    {
      title: "One text field as the payload",
      config: { connection: "local-nats", subject: "alerts.text", format: "text", valueField: "message" },
    },
  ],
  delivery: { idempotent: true },
  infer: ({ config: c, inputs }) => ({ outputs: {}, issues: sinkPayloadIssues(c, inputs.in ?? emptySchema) }),
  summarize: (c) => `${c.subject} · ${c.format}`,
});
