import { defineNode } from "@sluice/pipeline/node-definition";
import { emptySchema } from "@sluice/pipeline/record-schema";
import { z } from "zod";
import { checkSinkPayload, connectionField, sinkPayloadFields, sinkPayloadIssues } from "../messaging/payload";

const config = z
  .strictObject({
    connection: connectionField("redis", "Redis"),
    stream: z.string().min(1, "name a stream key").max(1024).meta({
      label: "Stream",
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

**Idempotent.** A batch is written by one Lua script that appends all its entries, trims, and records the batch as
written — all or nothing. Each sink partition remembers, in a hash beside the stream
(\`{<stream>}:sluice-written\`, expiring 7 days after the last write), the sequence number and a content digest of
the last batch it wrote. When the engine replays that batch after a crash (same batch id, same records), the script
sees it was written and appends nothing. So with a replayable source the pipeline is exactly-once end to end. A
replay that carries other records (a non-replayable source such as MQTT or RabbitMQ redelivers what it likes) has
another digest and is written: duplicates are then possible, as the source's at-least-once allows, but nothing is
skipped. Entry ids cannot serve for this: ids must grow, and several partitions append to the same stream.

**Payload.** By default the record as JSON in the entry field \`data\`; \`text\` or \`bytes-base64\` write one field of
the record; \`fields\` writes each top-level field of the record as an entry field (text as it is, other values as
JSON, NULLs left out).

**Trimming.** \`approximate\` (\`MAXLEN ~\`) trims whole radix-tree nodes and is cheap; \`exact\` keeps exactly *Max
length* entries. Trimming happens once per batch. Entries trimmed before a consumer read them are lost to it.

A batch is one script run: very large batches (tens of thousands of records) hold Redis for milliseconds.`,
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
