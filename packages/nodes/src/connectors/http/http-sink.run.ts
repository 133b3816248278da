import { createHash } from "node:crypto";
import type { DataRecord } from "@sluice/pipeline/record-schema";
import type { BatchInfo, RuntimeContext, SinkRuntime } from "../../runtime-contract";
import { PermanentConnectorError, type SinkWriter } from "../../runtime-contract";
import { resolveConnection } from "../files/resolve-connection";
import {
  excerptOf,
  type HttpAnswer,
  HttpTransportError,
  httpTarget,
  requestHeaders,
  retryAfterMs,
  send,
  statusLine,
  targetUrl,
} from "./http-client";
import { httpConnection } from "./http-connection.def";
import type { HttpSinkConfig } from "./http-sink.def";

// A request per batch (or per slice of one), retried while the receiver is busy or away, with a key that stays the
// same for the same records so receivers can drop repeats.

const RETRYABLE = new Set([408, 425, 429, 500, 502, 503, 504]);
const FIRST_BACKOFF_MS = 200;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function encodeBody(records: readonly DataRecord[], format: HttpSinkConfig["format"]): Buffer {
  if (format === "json") return Buffer.from(JSON.stringify(records), "utf8");
  let text = "";
  for (const r of records) text += `${JSON.stringify(r)}\n`;
  return Buffer.from(text, "utf8");
}

function idempotencyKey(batch: BatchInfo, part: number, body: Buffer): string {
  const digest = createHash("sha256").update(body).digest("hex").slice(0, 16);
  return `${batch.batchId}.${part}.${digest}`;
}

export const httpSinkRuntime: SinkRuntime<HttpSinkConfig> = {
  kind: "sink",
  type: "sink.http",
  async open(ctx): Promise<SinkWriter> {
    const c = ctx.config;
    const connection = resolveConnection(ctx as RuntimeContext<unknown>, c.connection, httpConnection);
    const target = httpTarget(connection, ctx.services.destinations.for(c.connection));
    const url = targetUrl(connection.baseUrl, c.path);
    const where = `${c.method} ${url.origin}${url.pathname}`;
    const contentType = c.format === "json" ? "application/json" : "application/x-ndjson";

    const deliver = async (records: readonly DataRecord[], batch: BatchInfo, part: number) => {
      const body = encodeBody(records, c.format);
      const headers = requestHeaders(connection, {
        ...c.headers,
        "content-type": contentType,
        "x-sluice-batch": batch.batchId,
        "x-sluice-records": String(records.length),
        ...(c.idempotencyKey ? { "idempotency-key": idempotencyKey(batch, part, body) } : {}),
      });
      let backoff = FIRST_BACKOFF_MS;
      let last = "";
      for (let attempt = 0; attempt <= c.retries; attempt++) {
        let answer: HttpAnswer;
        let wait: number | undefined;
        try {
          answer = await send(target, url, { method: c.method, headers, body, timeoutMs: c.timeout });
        } catch (err) {
          if (!(err instanceof HttpTransportError)) throw err;
          last = err.message;
          answer = { status: 0, statusText: "", headers: {}, excerpt: "" };
        }
        if (answer.status >= 200 && answer.status < 300) return;
        if (answer.status !== 0) {
          const text = `${where} answered ${statusLine(answer)}${answer.excerpt ? `: ${excerptOf(answer)}` : ""}`;
          if (!RETRYABLE.has(answer.status)) {
            throw new PermanentConnectorError(
              answer.status >= 300 && answer.status < 400
                ? `${text} (redirected to ${answer.headers.location ?? "?"}; point the connection there)`
                : text,
            );
          }
          last = text;
          wait = retryAfterMs(answer.headers["retry-after"]);
        }
        if (attempt === c.retries) break;
        const delay = Math.min(wait ?? backoff * (0.75 + Math.random() * 0.5), c.maxBackoff);
        ctx.log.warn("request failed; retrying", { error: last, retryInMs: Math.round(delay) });
        await sleep(delay);
        backoff = Math.min(backoff * 2, c.maxBackoff);
      }
      throw new Error(`${last} (after ${c.retries + 1} attempts)`);
    };

    return {
      async write(records, batch) {
        if (records.length === 0) return;
        const size = c.maxRecordsPerRequest ?? records.length;
        for (let i = 0, part = 0; i < records.length; i += size, part++) {
          await deliver(records.slice(i, i + size), batch, part);
        }
      },
      async close() {
        target.agent.destroy();
      },
    };
  },
};
