import { defineNode } from "@sluice/pipeline/node-definition";
import { field, t } from "@sluice/pipeline/record-schema";
import { z } from "zod";
import { NewFieldName } from "../../record-fields";
import { declaredFieldList, declaredSchemaFields, normaliseDeclared } from "../files/declared-fields";
import { INGEST_SHARDS } from "./ingest-stream";

// Records posted to the pipeline's webhook URL. Browser-safe declaration.

const config = z
  .strictObject({
    fields: declaredFieldList(
      "The keys to take from each posted object, with their types (string, int, float, boolean, timestamp, json). Leave empty to take every object as it is (an open schema).",
      [["order_id", { name: "amount", type: "float" }, { name: "ts", type: "timestamp" }]],
    ).optional(),
    receivedAtField: NewFieldName.optional().meta({
      label: "Received-at field",
      help: "Add the time Sluice accepted the request (epoch ms) to each record in this field.",
      placeholder: "received_at",
    }),
    timeField: NewFieldName.optional().meta({
      label: "Event-time field",
      help: "A declared timestamp field, or the received-at field, that carries each record's event time.",
      advanced: true,
    }),
  })
  .superRefine((c, ctx) => {
    const declared = normaliseDeclared(c.fields, "json");
    if (c.receivedAtField !== undefined && declared?.some((d) => d.name === c.receivedAtField)) {
      ctx.addIssue({
        code: "custom",
        path: ["receivedAtField"],
        message: `"${c.receivedAtField}" is also a declared field`,
      });
    }
    if (c.timeField !== undefined && c.timeField !== c.receivedAtField) {
      const d = declared?.find((x) => x.name === c.timeField);
      if (!d || (d.type !== "timestamp" && d.type !== "int")) {
        ctx.addIssue({
          code: "custom",
          path: ["timeField"],
          message: `declare "${c.timeField}" with type timestamp, or use the received-at field`,
        });
      }
    }
  });

export type WebhookSourceConfig = z.output<typeof config>;

export const webhookSourceDef = defineNode({
  type: "source.webhook",
  version: 1,
  kind: "source",
  title: "Webhook",
  category: "HTTP",
  icon: "webhook",
  summary: "Takes records that systems POST to the pipeline's ingest URL.",
  docs: `Every pipeline has an ingest URL, \`POST /api/ingest/<pipeline id>\`. Select the Webhook node in the editor: its
inspector shows the URL, makes and revokes its ingest tokens and gives a \`curl\` to copy; a personal or workspace API
token with the \`ingest\` scope is accepted too. A token is shown once — Sluice keeps only its SHA-256; send it as
\`Authorization: Bearer <token>\`. The body is one JSON object (\`Content-Type: application/json\`), a JSON array of
objects (same type), or JSON Lines — one object per line (\`application/x-ndjson\`, \`application/jsonl\`).

\`\`\`sh
curl -X POST https://sluice.example.com/api/ingest/clx2k… \\
  -H "Authorization: Bearer slu_…" -H "Content-Type: application/x-ndjson" \\
  --data-binary $'{"order_id":1,"amount":9.5}\\n{"order_id":2,"amount":12}\\n'
\`\`\`

**Answers.** \`202\` once the records are stored in Redis (every record of the request, or none): a sender may then
forget them. \`400\` when a line or array item is not a JSON object, naming it (\`line 3: invalid JSON at column 9\`);
nothing of that request is kept. \`401\` for a missing, unknown, revoked or expired token (saying which), \`403\` for a
token without the \`ingest\` scope or made for another pipeline, \`429\` past the token's rate limit, \`413\` for a
body over the size limit (8 MiB by default), \`415\` for another content type, and \`503\` with \`Retry-After\` when the pipeline has not read
what it was sent before (more than the backlog limit, 1,000,000 records by default, is waiting — for example while
the pipeline is stopped) or Redis cannot be reached. Records posted while no run is active wait for the next one.

**Delivery.** Each request's records are appended to one of the pipeline's ingest streams in Redis; the source
reads them from its committed position (a stream entry and how many of its records were taken), so it is
replayable and a run is exactly-once with an idempotent or transactional sink. Entries are removed only after the
engine committed the batch that read them, never because the stream is long: the route refuses instead. A pipeline
takes its webhook records through one Webhook node.

**Partitions.** The streams are ${INGEST_SHARDS} shards; the route appends each request to the next shard in turn, and
partition *p* of *P* reads the shards *s* with *s* mod *P* = *p*: records of one request stay together and in order,
records of different requests have no order between them. Parallelism above ${INGEST_SHARDS} leaves partitions idle.

**Fields.** With declared *Fields* each record keeps exactly those keys, converted to their types (as the Parse
transform does); a record that does not fit is refused with the reason. Without them every posted object is a
record as it is.

**From a file.** \`sluice run -f pipeline.yaml\` serves the same endpoint itself while the run lasts, at
\`http://127.0.0.1:3002/api/ingest/file-<pipeline name>\` (\`--ingest-port\`, \`--ingest-host\` to change it), with
the token in \`SLUICE_INGEST_TOKEN\` or one made for the run; it prints both when the run starts.`,
  inputs: [],
  outputs: [{ name: "out" }],
  config,
  examples: [
    { title: "Take whatever is posted, stamped with its arrival", config: { receivedAtField: "received_at" } },
    {
      title: "Typed order events, in event time",
      config: {
        fields: ["order_id", { name: "amount", type: "float" }, { name: "ts", type: "timestamp", nullable: false }],
        timeField: "ts",
      },
    },
  ],
  delivery: { replayable: true },
  eventTimeField: (c) => c.timeField,
  infer: ({ config: c }) => {
    const declared = normaliseDeclared(c.fields, "json");
    const received =
      c.receivedAtField !== undefined ? [field(c.receivedAtField, t.timestamp, false, "when Sluice accepted it")] : [];
    const eventTime = c.timeField !== undefined ? { eventTime: c.timeField } : {};
    if (!declared) return { outputs: { out: { fields: received, open: true, ...eventTime } } };
    const fields = declaredSchemaFields(declared).map((f) =>
      f.name === c.timeField ? field(f.name, t.timestamp, f.nullable, "event time") : f,
    );
    return { outputs: { out: { fields: [...fields, ...received], open: false, ...eventTime } } };
  },
  summarize: (c) => {
    const what =
      normaliseDeclared(c.fields, "json")
        ?.map((d) => d.name)
        .join(", ") ?? "any JSON object";
    return `POST /api/ingest/… → ${what}`;
  },
});
