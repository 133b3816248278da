import { Duration } from "@sluice/pipeline/duration";
import { defineNode } from "@sluice/pipeline/node-definition";
import { z } from "zod";
import { HeaderName } from "./http-connection.def";

// Sends each batch to an HTTP endpoint. Browser-safe declaration.

const config = z.strictObject({
  connection: z.string().min(1, "choose an HTTP connection").meta({
    label: "Connection",
    widget: "connection",
    connectionType: "http",
  }),
  path: z
    .string()
    .max(2048)
    .regex(/^[^\s?#]*(\?[^\s#]*)?$/, "a path (and query) without spaces")
    .default("")
    .meta({ label: "Path", help: "Appended to the connection's base URL.", placeholder: "/events" }),
  method: z.enum(["POST", "PUT"]).default("POST").meta({ label: "Method", widget: "select" }),
  format: z.enum(["json", "ndjson"]).default("json").meta({
    label: "Body",
    help: '"json": one JSON array of the records (application/json); "ndjson": one record per line (application/x-ndjson).',
    widget: "select",
  }),
  maxRecordsPerRequest: z.number().int().min(1).max(1_000_000).optional().meta({
    label: "Records per request",
    help: "Split a batch into requests of at most this many records. Default: one request per batch.",
    advanced: true,
  }),
  timeout: Duration.prefault("30s").meta({
    label: "Timeout",
    help: "How long to wait for an answer before the attempt counts as failed.",
    widget: "duration",
    advanced: true,
  }),
  retries: z.number().int().min(0).max(20).default(5).meta({
    label: "Retries per batch",
    help: "Attempts after the first before the batch is handed back to the engine, which retries it again later.",
    advanced: true,
  }),
  maxBackoff: Duration.prefault("30s").meta({
    label: "Longest wait between attempts",
    help: "Also caps a Retry-After the receiver asks for.",
    widget: "duration",
    advanced: true,
  }),
  idempotencyKey: z.boolean().default(true).meta({
    label: "Send Idempotency-Key",
    help: "A key per request that stays the same when the request is sent again, so the receiver can drop repeats.",
  }),
  headers: z.record(HeaderName, z.string().max(8192)).default({}).meta({
    label: "Headers",
    help: "Extra headers for this sink's requests (the connection's own headers and credential are added).",
    widget: "key-value",
    advanced: true,
  }),
});

export type HttpSinkConfig = z.output<typeof config>;

export const httpSinkDef = defineNode({
  type: "sink.http",
  version: 1,
  kind: "sink",
  title: "HTTP",
  category: "HTTP",
  icon: "send",
  summary: "Sends each batch of records to an HTTP endpoint as JSON or JSON Lines, with retries.",
  docs: `Sends each batch the engine writes as one request (or several, with *Records per request*) to the
connection's base URL plus *Path*: a JSON array of the records, or JSON Lines. The connection supplies the
credential header; the sink adds \`Content-Type\`, \`X-Sluice-Batch\` (the engine's batch id) and
\`X-Sluice-Records\`.

**Idempotency.** Each request carries \`Idempotency-Key: <batch id>.<request number>.<16 hex digits of the body's
SHA-256>\`. After a crash the engine sends the batch again with the same batch id; a request with the same
records has the same key, so a receiver that keeps the keys it has seen (as many APIs do for a day) drops the
repeat, and the pipeline is exactly-once end to end. The body's digest is part of the key because a batch read
again after a crash may hold more records than the first attempt (a growing source returns more after the same
position): such a request is new and must not be dropped. A receiver that ignores the header sees each record at
least once.

**Retries.** Network errors, timeouts, 408, 425, 429 and 5xx answers are retried with exponential backoff (from 200
ms, doubling, at most *Longest wait*); a \`Retry-After\` from the receiver (seconds or a date) is honoured, up to the
same cap. After *Retries* attempts the batch is handed back to the engine, which keeps retrying it with its own
backoff — nothing is committed meanwhile and the source waits, so nothing is lost while the receiver is down.
Any other 4xx answer (400, 401, 403, 404, 413, 422, …) cannot be fixed by waiting: the error names the status and
the start of the receiver's answer, e.g. \`POST https://api.example.com/events answered 401 Unauthorized: {"error":
"invalid token"}\`. (Until the engine fails runs on such errors, it retries them too and logs the message.)
Redirects are not followed.`,
  inputs: [{ name: "in" }],
  outputs: [],
  config,
  examples: [
    { title: "Post batches as a JSON array", config: { connection: "crm-api", path: "/v1/events" } },
    {
      title: "JSON Lines in requests of 500",
      config: { connection: "log-collector", path: "/ingest", format: "ndjson", maxRecordsPerRequest: 500 },
    },
  ],
  delivery: { idempotent: (c) => c.idempotencyKey },
  infer: () => ({ outputs: {} }),
  summarize: (c) => `${c.method} ${c.path || "/"} · ${c.format === "json" ? "JSON array" : "JSON Lines"}`,
});
