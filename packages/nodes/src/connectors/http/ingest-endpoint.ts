import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import type { Cluster, Redis } from "ioredis";
import { bodyFormat, bodyRecords, IngestBodyError, readLimited } from "./ingest-body";
import { ENTRY, INGEST_ENTRY_RECORDS, INGEST_SHARDS, ingestKeys, META, PIPELINE_ID } from "./ingest-stream";

// The writing side of webhook ingest: `POST …/<pipelineId>` with the pipeline's token appends the body's records to
// the pipeline's ingest streams (see ingest-stream.ts) and answers 202 only once Redis has them; the pipeline's
// Webhook source reads them. Served by the web app's route (`/api/ingest/<pipelineId>`) and, for a pipeline run from
// a file, by `sluice run` through `serveIngest` below. The token's life in the app is in packages/api/src/ingest.

export interface IngestLimits {
  /** Largest body accepted, in bytes (SLUICE_INGEST_MAX_BODY). */
  maxBodyBytes: number;
  /** Records waiting to be read above which requests are refused with 503 (SLUICE_INGEST_MAX_BACKLOG). */
  maxBacklog: number;
  /** Retry-After, in seconds, of a 503. */
  retryAfterSeconds: number;
}

export const DEFAULT_INGEST_LIMITS: IngestLimits = {
  maxBodyBytes: 8 * 1024 * 1024,
  maxBacklog: 1_000_000,
  retryAfterSeconds: 5,
};

export interface IngestDeps {
  redis: Redis | Cluster;
  /** The deployment's key prefix (SLUICE_PREFIX). */
  keys: { prefix: string };
  limits?: Partial<IngestLimits>;
}

export const TOKEN_PREFIX = "sluice_ing_";

export function tokenHash(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

function sameHash(a: string, b: string | null | undefined): boolean {
  if (!b || a.length !== b.length) return false;
  return timingSafeEqual(Buffer.from(a, "hex"), Buffer.from(b, "hex"));
}

// KEYS[1] meta, KEYS[2] the shard; ARGV: token hash ('' when the caller checked the sender), now, max backlog, total records, received at, then n, records
// for each entry. Returns {0, pending} accepted, {-1} bad token, {-2, pending} backlog full, {-3} more than the limit.
const APPEND = `
local h = redis.call('HMGET', KEYS[1], '${META.token}', '${META.previous}', '${META.previousUntil}', '${META.pending}')
local ok = ARGV[1] == '' or h[1] == ARGV[1] or (h[2] == ARGV[1] and tonumber(h[3] or '0') > tonumber(ARGV[2]))
if not ok then return {-1} end
local pending = tonumber(h[4] or '0')
local total = tonumber(ARGV[4])
local limit = tonumber(ARGV[3])
if total > limit then return {-3} end
if pending + total > limit then return {-2, pending} end
for i = 6, #ARGV, 2 do
  redis.call('XADD', KEYS[2], '*', '${ENTRY.count}', ARGV[i], '${ENTRY.records}', ARGV[i + 1], '${ENTRY.receivedAt}', ARGV[5])
end
return {0, redis.call('HINCRBY', KEYS[1], '${META.pending}', total)}`;

let nextShard = Math.floor(Math.random() * INGEST_SHARDS);

/** A JSON answer that no cache keeps. */
export function answer(status: number, body: Record<string, unknown>, headers: Record<string, string> = {}): Response {
  return Response.json(body, { status, headers: { "cache-control": "no-store", ...headers } });
}

/** The token of the request's `Authorization: Bearer <token>` header, if it has one. */
export function bearerToken(req: Request): string | undefined {
  return /^Bearer\s+(\S+)\s*$/i.exec(req.headers.get("authorization") ?? "")?.[1];
}

const UNAUTHORIZED = () =>
  answer(
    401,
    { error: "a valid ingest token is required: send it as Authorization: Bearer <token>" },
    { "www-authenticate": 'Bearer realm="sluice-ingest"' },
  );

/**
 * The whole request as `sluice run` serves it: the pipeline's token kept in Redis (installIngestToken), limits, body,
 * append. Never throws; every outcome is an HTTP answer.
 */
export async function handleIngestRequest(deps: IngestDeps, pipelineId: string, req: Request): Promise<Response> {
  if (!PIPELINE_ID.test(pipelineId)) return answer(404, { error: "no such pipeline" });
  const token = bearerToken(req);
  if (!token) return UNAUTHORIZED();
  return appendRequest(deps, pipelineId, req, tokenHash(token));
}

/**
 * The records of a request whose sender the caller has already let in (the web app checks its API tokens itself):
 * limits, body, append, as handleIngestRequest after its token check.
 */
export async function acceptIngestRecords(deps: IngestDeps, pipelineId: string, req: Request): Promise<Response> {
  if (!PIPELINE_ID.test(pipelineId)) return answer(404, { error: "no such pipeline" });
  return appendRequest(deps, pipelineId, req, null);
}

/** `hash`: the request's token to check against the pipeline's in Redis; null when the caller checked the sender. */
async function appendRequest(
  deps: IngestDeps,
  pipelineId: string,
  req: Request,
  hash: string | null,
): Promise<Response> {
  const limits = { ...DEFAULT_INGEST_LIMITS, ...deps.limits };
  const busy = () =>
    answer(
      503,
      { error: "the pipeline has not yet read what it was sent before; retry later" },
      { "retry-after": String(limits.retryAfterSeconds) },
    );
  const keys = ingestKeys(deps.keys.prefix, pipelineId);
  try {
    // Cheap checks before reading the body: the token, and whether there is room at all.
    const [current, previous, previousUntil, pending] = await deps.redis.hmget(
      keys.meta,
      META.token,
      META.previous,
      META.previousUntil,
      META.pending,
    );
    const valid =
      hash === null || sameHash(hash, current) || (sameHash(hash, previous) && Number(previousUntil ?? 0) > Date.now());
    if (!valid) return UNAUTHORIZED();
    if (Number(pending ?? 0) >= limits.maxBacklog) return busy();

    const format = bodyFormat(req.headers.get("content-type"));
    const lines = bodyRecords(await readLimited(req, limits.maxBodyBytes), format);
    const args: (string | number)[] = [hash ?? "", Date.now(), limits.maxBacklog, lines.length, Date.now()];
    for (let i = 0; i < lines.length; i += INGEST_ENTRY_RECORDS) {
      const chunk = lines.slice(i, i + INGEST_ENTRY_RECORDS);
      args.push(chunk.length, chunk.join("\n"));
    }
    const shard = nextShard;
    nextShard = (nextShard + 1) % INGEST_SHARDS;
    const [code] = (await deps.redis.eval(APPEND, 2, keys.meta, keys.stream(shard), ...args)) as number[];
    if (code === -1) return UNAUTHORIZED();
    if (code === -2) return busy();
    if (code === -3) {
      return answer(413, {
        error: `the request holds ${lines.length} records, more than the ${limits.maxBacklog} the pipeline may have waiting; send smaller requests`,
      });
    }
    return answer(202, { accepted: lines.length });
  } catch (err) {
    if (err instanceof IngestBodyError) return answer(err.status, { error: err.message });
    // Redis unreachable or failing: nothing was stored (the append is one script). Worth a retry; the details are
    // the operator's (logged), not the sender's. A body the sender got wrong never gets here (IngestBodyError: 4xx).
    console.error(`sluice ingest: storing records for pipeline ${pipelineId} failed:`, err);
    return answer(
      503,
      { error: "the records could not be stored right now; retry later" },
      { "retry-after": String(limits.retryAfterSeconds) },
    );
  }
}

/**
 * Makes `token` the pipeline's ingest token (stored as its SHA-256). The one it replaces keeps working for
 * `graceSeconds` (so senders can switch over), then no more.
 */
export async function installIngestToken(
  deps: IngestDeps,
  pipelineId: string,
  token: string,
  graceSeconds: number,
  now = Date.now(),
): Promise<void> {
  const key = ingestKeys(deps.keys.prefix, pipelineId).meta;
  const old = await deps.redis.hget(key, META.token);
  const fields: Record<string, string> = { [META.token]: tokenHash(token), [META.tokenCreatedAt]: String(now) };
  if (old && old !== fields[META.token] && graceSeconds > 0) {
    fields[META.previous] = old;
    fields[META.previousUntil] = String(now + graceSeconds * 1000);
  }
  await deps.redis.hset(key, fields);
  if (!fields[META.previous]) await deps.redis.hdel(key, META.previous, META.previousUntil);
}

/** A new random token, in the form the endpoint hands out. */
export function newIngestToken(): string {
  return `${TOKEN_PREFIX}${randomBytes(32).toString("base64url")}`;
}

export interface IngestServer {
  /** `http://host:port`; pipelines post to `${url}/api/ingest/<pipelineId>`. */
  url: string;
  close(): Promise<void>;
}

/**
 * `handleIngestRequest` behind a plain `node:http` server, at the web app's path: what `sluice run` offers a pipeline
 * with a Webhook source. Anything but `POST /api/ingest/<id>` is 404/405.
 */
export async function serveIngest(deps: IngestDeps, port: number, host = "127.0.0.1"): Promise<IngestServer> {
  const server = http.createServer((req, res) => {
    const send = (response: Response) =>
      response.arrayBuffer().then((body) => {
        const headers: Record<string, string> = {};
        response.headers.forEach((value, name) => {
          headers[name] = value;
        });
        res.writeHead(response.status, headers);
        res.end(Buffer.from(body));
      });
    const path = (req.url ?? "/").split("?")[0]!;
    const match = /^\/api\/ingest\/([^/]+)$/.exec(path);
    if (!match) {
      void send(
        Response.json({ error: `no ingest endpoint at ${path}: post to /api/ingest/<pipeline>` }, { status: 404 }),
      );
      return;
    }
    if (req.method !== "POST") {
      void send(Response.json({ error: "only POST is accepted here" }, { status: 405, headers: { allow: "POST" } }));
      return;
    }
    let pipelineId: string;
    try {
      pipelineId = decodeURIComponent(match[1]!);
    } catch {
      void send(Response.json({ error: `the pipeline id in ${path} is not valid URL encoding` }, { status: 400 }));
      return;
    }
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers)) {
      if (typeof v === "string") headers.set(k, v);
      else if (Array.isArray(v)) for (const x of v) headers.append(k, x);
    }
    // Only the method, headers and body are read: the URL's origin is a placeholder (an IPv6 host would not parse).
    const request = new Request(`http://localhost${path}`, {
      method: "POST",
      headers,
      body: Readable.toWeb(req) as ReadableStream<Uint8Array>,
      duplex: "half",
    } as RequestInit);
    // handleIngestRequest never throws; a failure to write the answer means the client has gone.
    handleIngestRequest(deps, pipelineId, request)
      .then(send)
      .catch(() => res.destroy());
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://${host.includes(":") ? `[${host}]` : host}:${address.port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
