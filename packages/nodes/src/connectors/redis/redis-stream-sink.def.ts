import { defineNode } from "@sluice/pipeline/node-definition";
import { emptySchema } from "@sluice/pipeline/record-schema";
import { z } from "zod";
import { checkSinkPayload, connectionField, sinkPayloadFields, sinkPayloadIssues } from "../messaging/payload";

const config = z
  .strictObject({
    connection: connectionField("redis", "Redis"),
    stream: z.string().min(1, "name a stream key").max(1024).meta({
      label: "Stream",
      discover: "object",
      help: "The stream key to append to (created by the first entry).",
      placeholder: "orders-enriched",
    }),
    entryField: z.string().min(1).max(256).default("data").meta({
      label: "Entry field",
      help: "The entry field that holds the payload (not used by the fields format).",
    }),
    ...sinkPayloadFields(["json", "text", "bytes-base64", "fields"]),
    trim: z.enum(["none", "approximate", "exact"]).default("none").meta({
      label: "Trim to a length",
      help: "none: keep every entry; approximate: MAXLEN ~ (cheap, keeps at least the limit); exact: MAXLEN = (keeps exactly the limit).",
      widget: "select",
    }),
    maxLen: z
      .number()
      .int()
      .min(1)
      .max(1e15)
      .optional()
      .meta({ label: "Max length", help: "With trimming: how many entries the stream keeps." }),
  })
  .superRefine((c, ctx) => {
    checkSinkPayload(c, ctx);
    if (c.trim !== "none" && c.maxLen === undefined) {
      ctx.addIssue({ code: "custom", path: ["maxLen"], message: `trimming (${c.trim}) needs a max length` });
    }
    if (c.format === "fields" && c.valueField !== undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["valueField"],
        message: "the fields format writes every field of the record; leave the value field empty",
      });
    }
  });

export type RedisStreamSinkConfig = z.output<typeof config>;

export const redisStreamSinkDef = defineNode({
  type: "sink.redis-stream",
  version: 1,
  kind: "sink",
  title: "Redis Streams",
  category: "Messaging",
  icon: "database",
  summary: "Appends records to a Redis stream (XADD), idempotently per batch, with an optional length limit.",
  docs: `Appends each record as one entry (\`XADD\` with an id chosen by Redis) to a stream.

**Idempotent.** A batch is written as Lua scripts of 125 entries each, sent one after the other without waiting
(Redis appends one while the next is encoded). Each sink partition keeps, in a hash beside the stream
(\`{<stream>}:sluice-written\`, expiring 7 days after the last write), the chain of what its current batch has in
the stream: per chunk the batch's sequence number, the entries so far and a digest of their content. When the engine
replays the batch after a crash (same batch id, same records), the chunks already in the stream are skipped and the
rest appended — whole batch or cut short mid-way. So with a replayable source the pipeline is exactly-once end to
end. A replay that carries other records (a non-replayable source such as MQTT or RabbitMQ redelivers what it likes)
has other digests and is written: duplicates are then possible, as the source's at-least-once allows, but nothing is
skipped. Entry ids cannot serve for this: ids must grow, and several partitions append to the same stream.

**Payload.** By default the record as JSON in the entry field \`data\`; \`text\` or \`bytes-base64\` write one field of
the record; \`fields\` writes each top-level field of the record as an entry field (text as it is, other values as
JSON, NULLs left out).

**Trimming.** \`approximate\` (\`MAXLEN ~\`) trims whole radix-tree nodes and is cheap; \`exact\` keeps exactly *Max
length* entries. Trimming happens once per batch, after its last chunk. Entries trimmed before a consumer read them are lost to it.

Each chunk is one script run of at most 125 XADDs, so even a large batch holds Redis for well under a millisecond at a
time.`,
  inputs: [{ name: "in", multiple: true }],
  outputs: [],
  config,
  examples: [
    { title: "Records as JSON", config: { connection: "local-redis", stream: "orders-enriched" } },
    {
      title: "Fields as entry fields, the newest ~100,000 kept",
      config: { connection: "local-redis", stream: "alerts", format: "fields", trim: "approximate", maxLen: 100_000 },
    },
  ],
  delivery: { idempotent: true },
  infer: ({ config: c, inputs }) => ({ outputs: {}, issues: sinkPayloadIssues(c, inputs.in ?? emptySchema) }),
  summarize: (c) =>
    [c.stream, c.format, c.trim === "none" ? undefined : `MAXLEN ${c.trim === "approximate" ? "~" : "="} ${c.maxLen}`]
      .filter(Boolean)
      .join(" · "),
});
