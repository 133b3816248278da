import { randomBytes } from "node:crypto";
import http from "node:http";
import { handleIngestRequest, tokenHash } from "@sluice/nodes/connectors/http/ingest-endpoint";
import { INGEST_SHARDS, ingestKeys, META } from "@sluice/nodes/connectors/http/ingest-stream";
import { Redis } from "ioredis";
import { REDIS_URL } from "./connectors-messaging";
import {
  type BenchCase,
  benchRecords,
  driveSource,
  type Measured,
  openSource,
  runSink,
  startClock,
  startThread,
  uniqueName,
} from "./connectors-support";
import type { ThreadData, ThreadMessage } from "./connectors-threads";

// HTTP cases of `npm run bench -- connectors`:
//   http sink       sink.http → the HTTP sink tests' receiver (connectors/http/test-receiver.ts) in a thread of its own
//   webhook ingest  NDJSON requests of 500 records → node:http → handleIngestRequest (what POST /api/ingest/<id> in the
//                   web app runs) → Redis, answered 202 once Redis has them; the server in a thread of its own, the
//                   sender here with several requests in flight
//   webhook source  source.webhook reading what the ingest service appended, trimming after each commit

const INGEST_BATCH = 500;
const INGEST_CONCURRENCY = 8;

// --- HTTP sink -------------------------------------------------------------------------------------------------

const httpSink: BenchCase = {
  connector: "http",
  direction: "sink",
  defaultRecords: 300_000,
  what: "sink.http: one POST per batch (JSON array, Idempotency-Key), 200 from a local receiver on its own thread",
  async run(o) {
    const counted: ((m: { records: number }) => void)[] = [];
    const receiver = await startThread<ThreadMessage>({ kind: "receiver" } satisfies ThreadData, (m) => {
      if (m.type === "counted") counted.shift()?.(m);
    });
    try {
      const url = (receiver.ready as { url: string }).url;
      const m = await runSink("sink.http", { connection: "api", path: "/events" }, o, {
        connections: { api: { type: "http", config: { baseUrl: url } } },
      });
      const got = await new Promise<{ records: number }>((resolve) => {
        counted.push(resolve);
        receiver.worker.postMessage({ type: "count" });
      });
      if (got.records !== o.records + o.warmup) throw new Error(`the receiver accepted ${got.records} records`);
      return m;
    } finally {
      await receiver.stop();
    }
  },
};

// --- Webhook ---------------------------------------------------------------------------------------------------

interface Ingest {
  redis: Redis;
  prefix: string;
  pipelineId: string;
  token: string;
  keys: ReturnType<typeof ingestKeys>;
  pending(): Promise<number>;
  drop(): Promise<void>;
}

/** A pipeline's ingest keys under a prefix of its own, with a token. */
async function ingestSetup(): Promise<Ingest> {
  const redis = new Redis(REDIS_URL);
  const prefix = uniqueName("sluice-bench");
  const pipelineId = `bench${randomBytes(6).toString("hex")}`;
  const token = `sluice_ing_${randomBytes(32).toString("base64url")}`;
  const keys = ingestKeys(prefix, pipelineId);
  await redis.hset(keys.meta, META.token, tokenHash(token), META.tokenCreatedAt, String(Date.now()));
  return {
    redis,
    prefix,
    pipelineId,
    token,
    keys,
    pending: async () => Number((await redis.hget(keys.meta, META.pending)) ?? 0),
    async drop() {
      await redis.del(keys.meta, ...keys.streams());
      redis.disconnect();
    },
  };
}

function ndjson(from: number, n: number): Buffer {
  let text = "";
  for (const r of benchRecords(from, n)) text += `${JSON.stringify(r)}\n`;
  return Buffer.from(text, "utf8");
}

function post(agent: http.Agent, url: URL, token: string, body: Buffer): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method: "POST",
        agent,
        headers: {
          authorization: `Bearer ${token}`,
          "content-type": "application/x-ndjson",
          "content-length": String(body.length),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

const webhookIngest: BenchCase = {
  connector: "webhook",
  direction: "ingest",
  defaultRecords: 500_000,
  target: 50_000,
  what: `POST /api/ingest/<pipeline> with NDJSON bodies of ${INGEST_BATCH} records, ${INGEST_CONCURRENCY} in flight, each answered 202 after the Lua append to Redis`,
  async run(o): Promise<Measured> {
    const ingest = await ingestSetup();
    const server = await startThread<ThreadMessage>({
      kind: "ingest",
      redisUrl: REDIS_URL,
      prefix: ingest.prefix,
      maxBacklog: 1_000_000_000,
    } satisfies ThreadData);
    const agent = new http.Agent({ keepAlive: true, maxSockets: INGEST_CONCURRENCY });
    try {
      const url = new URL(`/api/ingest/${ingest.pipelineId}`, (server.ready as { url: string }).url);
      // Bodies made beforehand (a pool, sent round robin), so the sender's own work is only the sending.
      const bodies = Array.from({ length: 40 }, (_, b) => ndjson(b * INGEST_BATCH, INGEST_BATCH));
      let sent = 0;
      const send = async (requests: number) => {
        let next = 0;
        const lane = async () => {
          while (next < requests) {
            next++;
            const answer = await post(agent, url, ingest.token, bodies[sent++ % bodies.length]!);
            if (answer.status !== 202) throw new Error(`ingest answered ${answer.status}: ${answer.text}`);
          }
        };
        await Promise.all(Array.from({ length: INGEST_CONCURRENCY }, lane));
      };
      const warmRequests = Math.ceil(o.warmup / INGEST_BATCH);
      const requests = Math.ceil(o.records / INGEST_BATCH);
      await send(warmRequests);
      const clock = startClock();
      await send(requests);
      const measured = clock.stop();
      const expected = (warmRequests + requests) * INGEST_BATCH;
      const pending = await ingest.pending();
      if (pending !== expected) throw new Error(`Redis holds ${pending} records, not ${expected}`);
      return { records: requests * INGEST_BATCH, ...measured };
    } finally {
      agent.destroy();
      await server.stop();
      await ingest.drop();
    }
  },
};

const webhookSource: BenchCase = {
  connector: "webhook",
  direction: "source",
  defaultRecords: 500_000,
  what: `source.webhook reading the ${INGEST_SHARDS} ingest streams (entries of 1,000 records) of one partition, trimming after each commit`,
  async run(o): Promise<Measured> {
    const ingest = await ingestSetup();
    try {
      const total = o.records + o.warmup;
      o.log(`ingesting ${total} records`);
      const deps = { redis: ingest.redis, keys: { prefix: ingest.prefix }, limits: { maxBacklog: 1_000_000_000 } };
      for (let from = 0; from < total; from += 1000) {
        const body = ndjson(from, Math.min(1000, total - from));
        const answer = await handleIngestRequest(
          deps,
          ingest.pipelineId,
          new Request("http://127.0.0.1/api/ingest", {
            method: "POST",
            headers: { authorization: `Bearer ${ingest.token}`, "content-type": "application/x-ndjson" },
            body: new Uint8Array(body),
          }),
        );
        if (answer.status !== 202) throw new Error(`ingest answered ${answer.status}: ${await answer.text()}`);
      }
      const runId = uniqueName("bench-webhook");
      // RESP2, as the Redis connectors use: webhook-source.run.ts reads XREAD's reply as [key, entries] pairs, the
      // RESP2 shape; ioredis 6 speaks RESP3 by default, where the reply comes as one flat [key, entries, key, …] list
      // and the source fails ("Cannot read properties of undefined (reading 'indexOf')").
      const redis = new Redis(REDIS_URL, { protocol: 2 });
      const reader = await openSource("source.webhook", {}, runId, {
        services: { ingest: { redis, prefix: ingest.prefix, pipelineId: ingest.pipelineId } },
      });
      try {
        const m = await driveSource(reader, o);
        const left = await ingest.pending();
        return { ...m, notes: [`${left} records left untrimmed`] };
      } finally {
        await reader.close();
        redis.disconnect();
      }
    } finally {
      await ingest.drop();
    }
  },
};

export const HTTP_CASES: BenchCase[] = [httpSink, webhookIngest, webhookSource];
