import http from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import type { ApiDeps } from "@sluice/api/context";
import { RateLimits } from "@sluice/api/limits/rate-limits";
import type { AppRouter } from "@sluice/api/root";
import { emptyDefinition } from "@sluice/pipeline/definition";
import { type ApiHarness, createApiHarness } from "@sluice/test-kit/api-harness";
import { createTRPCClient, httpBatchLink, TRPCClientError } from "@trpc/client";
import superjson from "superjson";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createIngestHandler } from "./api-routes";
import { createMetricsHandler } from "./metrics-handler";
import { createTrpcHandler } from "./trpc-handler";

// API tokens over HTTP, as a script or CI job uses them: the web app's handlers (the ones the route files bind) behind
// a real HTTP server on loopback, called with tRPC's own client and with fetch, `Authorization: Bearer` and nothing
// else. The token's rules themselves are tested in packages/api (tokens/api-tokens.int.test.ts).

const METRICS_TOKEN = "installation-metrics-token-0123456789";

let h: ApiHarness;
let deps: ApiDeps;
let server: http.Server;
let base: string;

/** The routes under test, as Next would dispatch them. */
function routes(getDeps: () => ApiDeps) {
  const trpc = createTrpcHandler(getDeps, { maxBodyBytes: 2 * 1024 * 1024 });
  const ingest = createIngestHandler(getDeps);
  const metrics = createMetricsHandler(getDeps, () => METRICS_TOKEN);
  return (req: Request): Promise<Response> => {
    const path = new URL(req.url).pathname;
    if (path.startsWith("/api/trpc/")) return trpc(req);
    if (path === "/api/metrics") return metrics(req);
    const hook = /^\/api\/ingest\/([^/]+)$/.exec(path);
    if (hook) return ingest(req, decodeURIComponent(hook[1]!));
    return Promise.resolve(new Response("not found", { status: 404 }));
  };
}

beforeAll(async () => {
  h = await createApiHarness("api-tokens-http");
  deps = {
    ...h.deps,
    rateLimits: new RateLimits(h.redis, h.deps.keys.prefix, { apiPerToken: { points: 30, durationSeconds: 60 } }),
  };
  const handle = routes(() => deps);
  server = http.createServer((req, res) => {
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) {
      if (typeof value === "string") headers.set(name, value);
      else if (Array.isArray(value)) for (const v of value) headers.append(name, v);
    }
    const hasBody = req.method !== "GET" && req.method !== "HEAD";
    const request = new Request(`http://${req.headers.host}${req.url}`, {
      method: req.method,
      headers,
      body: hasBody ? (Readable.toWeb(req) as ReadableStream<Uint8Array>) : undefined,
      duplex: "half",
    } as RequestInit);
    void handle(request).then(async (response) => {
      res.writeHead(response.status, Object.fromEntries(response.headers));
      res.end(Buffer.from(await response.arrayBuffer()));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  await h?.close();
});

/** tRPC's own client, sending the token and nothing else. */
function clientWith(secret: string) {
  return createTRPCClient<AppRouter>({
    links: [
      httpBatchLink({
        url: `${base}/api/trpc`,
        transformer: superjson,
        headers: { authorization: `Bearer ${secret}` },
      }),
    ],
  });
}

async function clientError(promise: Promise<unknown>): Promise<TRPCClientError<AppRouter>> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TRPCClientError);
  return err as TRPCClientError<AppRouter>;
}

/** A signed-up user with a pipeline that can run, and their session's in-process caller to make tokens with. */
async function person(name: string) {
  const { cookie } = await h.signUp(name);
  const { api } = await h.caller(cookie);
  const def = emptyDefinition("http");
  def.spec.nodes.push(
    { id: "gen", type: "source.generator", config: { rate: 1 } },
    { id: "out", type: "sink.console", config: {} },
  );
  def.spec.edges.push({ from: "gen", to: "out" });
  const { id: pipelineId } = await api.pipelines.create({ name: `${name}'s pipeline`, definition: def });
  return { api, cookie, pipelineId };
}

describe("the tRPC endpoint with Authorization: Bearer", () => {
  it("lists with a read token, refuses a change with 403, and a revoked token with 401 at once", async () => {
    const a = await person("Ada");
    const { secret, token } = await a.api.tokens.createPersonal({ name: "script", scopes: ["read"], expiresInDays: 7 });
    const client = clientWith(secret);

    const [pipelines, me] = await Promise.all([client.pipelines.list.query({}), client.auth.me.query()]);
    expect(pipelines.map((p) => p.id)).toEqual([a.pipelineId]);
    expect(me?.user.name).toBe("Ada");

    const change = await clientError(client.pipelines.rename.mutate({ id: a.pipelineId, name: "renamed" }));
    expect(change.data?.httpStatus).toBe(403);
    expect(change.message).toBe('this needs an API token with the "write" scope; this token has "read"');

    await a.api.tokens.revokePersonal({ id: token.id });
    const revoked = await clientError(client.pipelines.list.query({}));
    expect(revoked.data?.httpStatus).toBe(401);
    expect(revoked.message).toMatch(/^this API token was revoked at /);

    // A session cookie beside a refused token does not let the request in: the token decides.
    const both = await fetch(`${base}/api/trpc/auth.me`, {
      headers: { authorization: `Bearer ${secret}`, cookie: a.cookie },
    });
    expect(both.status).toBe(401);
  });

  it("answers 429 with Retry-After past the token's rate limit", async () => {
    const a = await person("Bob");
    const { secret } = await a.api.tokens.createPersonal({ name: "busy", scopes: ["read"], expiresInDays: 1 });
    const input = encodeURIComponent(JSON.stringify(superjson.serialize({})));
    const call = () =>
      fetch(`${base}/api/trpc/pipelines.list?input=${input}`, { headers: { authorization: `Bearer ${secret}` } });
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 31; i++) {
      last = await call();
      statuses.push(last.status);
    }
    expect(statuses.slice(0, 30).every((s) => s === 200)).toBe(true);
    expect(statuses[30]).toBe(429);
    const seconds = Number(last!.headers.get("retry-after"));
    expect(Number.isInteger(seconds) && seconds >= 1 && seconds <= 60).toBe(true);
  });
});

describe("the other routes with API tokens", () => {
  it("takes records at the ingest URL from a personal token with the ingest scope", async () => {
    const a = await person("Cy");
    const { secret } = await a.api.tokens.createPersonal({ name: "sender", scopes: ["ingest"], expiresInDays: 1 });
    const post = (token: string) =>
      fetch(`${base}/api/ingest/${a.pipelineId}`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/x-ndjson" },
        body: '{"n":1}\n{"n":2}\n',
      });
    const accepted = await post(secret);
    expect(accepted.status).toBe(202);
    expect(await accepted.json()).toEqual({ accepted: 2 });
    const reader = await a.api.tokens.createPersonal({ name: "reader", scopes: ["read"], expiresInDays: 1 });
    expect((await post(reader.secret)).status).toBe(403);
  });

  it("serves /api/metrics to a read token with its own workspace's runs only", async () => {
    const a = await person("Di");
    const b = await person("Eve");
    await a.api.runs.start({ pipelineId: a.pipelineId });
    await b.api.runs.start({ pipelineId: b.pipelineId });
    const queued = (text: string) => Number(/^sluice_runs\{status="queued"\} (\d+)$/m.exec(text)?.[1]);
    const scrape = (token: string) => fetch(`${base}/api/metrics`, { headers: { authorization: `Bearer ${token}` } });

    const { secret } = await a.api.tokens.createPersonal({ name: "prometheus", scopes: ["read"], expiresInDays: 1 });
    const own = await scrape(secret);
    expect(own.status).toBe(200);
    const ownText = await own.text();
    expect(queued(ownText)).toBe(1);
    expect(ownText).toMatch(/^sluice_workers\{state="alive"\} /m); // the shared fleet, as fleet.list shows it

    const everything = await scrape(METRICS_TOKEN);
    expect(queued(await everything.text())).toBeGreaterThanOrEqual(2);

    const hook = await a.api.ingest.createToken({ pipelineId: a.pipelineId });
    const wrongScope = await scrape(hook.secret);
    expect(wrongScope.status).toBe(403);
    expect(await wrongScope.text()).toMatch(/"read" scope/);
    await a.api.tokens.revokePersonal({ id: (await a.api.tokens.mine())[0]!.id });
    expect((await scrape(secret)).status).toBe(401);
  });
});
