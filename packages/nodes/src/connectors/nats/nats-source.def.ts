import { Duration } from "@sluice/pipeline/duration";
import { defineNode, type InferIssue } from "@sluice/pipeline/node-definition";
import { field, t } from "@sluice/pipeline/record-schema";
import { z } from "zod";
import { checkSourcePayload, connectionField, sourcePayloadFields, sourceRecordSchema } from "../messaging/payload";

const StreamName = z
  .string()
  .min(1, "name a stream")
  .max(256)
  .regex(/^[^\s.*>/\\]+$/, "a stream name has no spaces, dots, *, >, / or \\");
const Subject = z
  .string()
  .min(1)
  .max(1024)
  .regex(/^[^\s]+$/, "a subject has no spaces");

const Instant = z.iso.datetime({ offset: true, message: "give an ISO date-time such as 2026-05-01T00:00:00Z" });

const payload = sourcePayloadFields(["json", "text", "bytes-base64"]);

const config = z
  .strictObject({
    connection: connectionField("nats", "NATS"),
    stream: StreamName.meta({
      label: "Stream",
      help: "The JetStream stream to read.",
      placeholder: "ORDERS",
      discover: "object",
    }),
    subject: z
      .union([Subject, z.array(Subject).min(1).max(256)])
      .optional()
      .meta({
        label: "Subjects",
        help: "Only these subjects of the stream (wildcards allowed), each read by its own consumer; partition p reads the subjects at positions p, p+P, … of the list. Empty: the whole stream, read by one partition.",
        examples: ["orders.created", ["orders.eu.>", "orders.us.>"]],
      }),
    consumer: z
      .string()
      .min(1)
      .max(150)
      .regex(/^[A-Za-z0-9_-]+$/, "a consumer name is letters, digits, _ and -")
      .optional()
      .meta({
        label: "Durable consumer",
        help: "Name of the durable consumer (with several subjects, -1, -2, … are appended). A new run continues from where that consumer's acknowledgements stand. Empty: one per run, sluice-<run>-<node>.",
      }),
    start: z
      .union([z.enum(["earliest", "latest"]), z.number().int().min(0), Instant])
      .default("earliest")
      .meta({
        label: "Start at",
        help: "Where a new run starts (a restarted run continues from its last commit): earliest = the first message kept; latest = messages stored after the run was created; a stream sequence number, to read what follows it; or an ISO date-time, to read the messages stored from then on.",
        examples: ["earliest", "latest", 1042, "2026-05-01T00:00:00Z"],
      }),
    until: z
      .union([z.literal("start"), z.number().int().min(0), Instant])
      .optional()
      .meta({
        label: "Stop after",
        help: "Make the read bounded: read up to this stream sequence (included), or the messages stored up to this ISO date-time (included), then end. start = the stream's last message when the run starts. Empty: keep reading new messages.",
        examples: ["start", 2048, "2026-05-01T01:00:00Z"],
        advanced: true,
      }),
    ...payload,
    fields: payload.fields.meta({ discover: "fields" }),
    maxInflight: z.number().int().min(10).max(1_000_000).default(10_000).meta({
      label: "Messages in flight",
      help: "How many delivered but not yet committed messages a consumer may hold (max_ack_pending); bounds memory.",
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
    if (Array.isArray(c.subject)) {
      const seen = new Set<string>();
      c.subject.forEach((s, i) => {
        if (seen.has(s)) ctx.addIssue({ code: "custom", path: ["subject", i], message: `"${s}" is listed twice` });
        seen.add(s);
      });
    }
  });

export type NatsSourceConfig = z.output<typeof config>;

/** The consumers of the node: one per subject, or one for the whole stream (key "*"). */
export function natsSubjects(c: { subject?: string | string[] | undefined }): string[] | undefined {
  return c.subject === undefined ? undefined : Array.isArray(c.subject) ? c.subject : [c.subject];
}

const NATS_METADATA = [
  field("_subject", t.string, false, "the message's subject"),
  field("_seq", t.int, false, "its stream sequence number"),
  field("_time", t.timestamp, false, "when the stream stored it"),
];

export const natsSourceDef = defineNode({
  type: "source.nats-jetstream",
  version: 1,
  kind: "source",
  title: "NATS JetStream",
  category: "Messaging",
  icon: "radio",
  summary: "Reads a JetStream stream through a durable pull consumer, replayable by stream sequence.",
  docs: `Reads the messages of a JetStream stream (optionally only some subjects) through durable pull consumers,
each message becoming one record.

**Position and exactly-once.** The position is the stream sequence of the last message read, per consumer,
committed by the engine atomically with each batch. Messages are acknowledged only after that commit, with one
\`AckAll\` per batch (the consumer's ack policy is \`all\`). When a partition restarts or moves to another worker and
its consumer has delivered beyond the committed position, the consumer is created again to deliver from the
message after the committed one — so nothing is skipped and nothing is read twice, whatever was in flight: the
source is replayable, and with an idempotent or transactional sink the pipeline runs exactly-once. Should a
delivery get lost on the way (the connection dropped), the consumer's delivery sequence shows the gap, and the
partition re-reads from its last commit instead of going on without it.

**Consumers.** Durable, pull, ack policy \`all\`, \`max_ack_pending\` = *Messages in flight*, ack wait 10 minutes,
removed by the server after 7 days without use. A new run with a named *Durable consumer* continues from its
acknowledged position; by default every run has its own (\`sluice-<run>-<node>\`).

**Partitions.** Each subject in *Subjects* has its own consumer, and subject *i* is read by partition *i mod P*.
Without subjects, partition 0 reads the whole stream and the others stay idle.

**Start at a time.** An ISO date-time as *Start at* delivers the messages the stream stored from then on
(JetStream's start-time deliver policy).

**Bounded reads (replay).** With *Stop after* each consumer reads up to a stream sequence (included), or the messages
stored up to a date-time (included), and then ends, so the run completes: a backfill replays a stretch of a stream
this way. \`start\` stops at the stream's last message when the run starts; it is kept in the position, so a
restarted partition ends at the same message. A consumer has ended when the server has nothing more for it up to
the bound and everything it delivered has arrived. Give a replay its own consumer (leave *Durable consumer* empty).

**Payload.** By default a JSON object whose keys become the record's fields; \`text\` and \`bytes-base64\` put the
payload in one field. A message whose payload cannot be read goes to the dead-letter queue with the error, its
subject and sequence, and the run goes on. With *Add message metadata* each record gets \`_subject\`, \`_seq\` and
\`_time\` (when the stream stored it, epoch ms).

Messages the stream's limits (max age, max messages) removed before they were read are gone.`,
  inputs: [],
  outputs: [{ name: "out" }],
  config,
  examples: [
    { title: "A whole stream of JSON messages", config: { connection: "local-nats", stream: "ORDERS" } },
    {
      title: "Two subject trees in parallel, typed, from now on",
      config: {
        connection: "local-nats",
        stream: "ORDERS",
        subject: ["orders.eu.>", "orders.us.>"],
        start: "latest",
        fields: ["order_id", { name: "amount", type: "float" }, { name: "ts", type: "timestamp", nullable: false }],
        timeField: "ts",
      },
    },
  ],
  delivery: { replayable: true },
  eventTimeField: (c) => c.timeField,
  infer: ({ config: c }) => {
    const issues: InferIssue[] = [];
    return { outputs: { out: sourceRecordSchema(c, NATS_METADATA, issues) }, issues };
  },
  summarize: (c) => {
    const subjects = natsSubjects(c);
    const what =
      subjects === undefined
        ? c.stream
        : `${c.stream} ${subjects.length === 1 ? subjects[0] : `${subjects.length} subjects`}`;
    return [what, c.format].join(" · ");
  },
});
