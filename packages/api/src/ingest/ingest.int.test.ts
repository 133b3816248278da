import { FleetWorker } from "@sluice/engine/fleet-worker";
import { catalog } from "@sluice/nodes/catalog";
import { INGEST_SHARDS, ingestKeys } from "@sluice/nodes/connectors/http/ingest-stream";
import { freePort } from "@sluice/nodes/connectors/test-servers";
import { runtimes } from "@sluice/nodes/runtimes";
import { readRunSnapshot, readTail } from "@sluice/pipeline/control/run-reader";
import { emptyDefinition, type PipelineDefinition } from "@sluice/pipeline/definition";
import { type ApiHarness, createApiHarness, rejects } from "@sluice/test-kit/api-harness";
import { waitFor } from "@sluice/test-kit/fleet-harness";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { handleLimitedIngestRequest } from "./ingest-service";

// Webhook ingest against the real Redis and database: the pipeline's ingest tokens, every answer of the ingest URL,
// and records posted before and during a run reaching its sink through the engine, with an unreadable one
// dead-lettered. (Personal and workspace tokens at this URL: tokens/api-tokens.int.test.ts.)

let h: ApiHarness;
beforeAll(async () => {
  h = await createApiHarness("ingest");
});
afterAll(async () => {
  await h?.close();
});

function webhookPipeline(): PipelineDefinition {
  const def = emptyDefinition("webhook");
  def.spec.nodes.push(
    {
      id: "src",
      type: "source.webhook",
      config: { fields: ["order_id", { name: "amount", type: "float" }], receivedAtField: "received_at" },
    },
    { id: "out", type: "sink.console", config: { keep: 1000 } },
  );
  def.spec.edges.push({ from: "src", to: "out" });
  return def;
}

async function pipelineWithToken() {
  const { cookie } = await h.signUp("Sender");
  const { api } = await h.caller(cookie);
  const { id } = await api.pipelines.create({ name: `hook-${Math.random()}`, definition: webhookPipeline() });
  const { secret: token, path } = await api.ingest.createToken({ pipelineId: id });
  return { api, id, token, path };
}

function post(
  pipelineId: string,
  body: string,
  { token, type = "application/x-ndjson" }: { token?: string; type?: string } = {},
  deps = h.deps,
) {
  const headers: Record<string, string> = { "content-type": type };
  if (token) headers.authorization = `Bearer ${token}`;
  return handleLimitedIngestRequest(
    deps,
    pipelineId,
    new Request(`http://sluice.test/api/ingest/${pipelineId}`, {
      method: "POST",
      headers,
      body,
    }),
  );
}

/** Every record waiting in the pipeline's ingest streams, in shard order. */
async function stored(pipelineId: string): Promise<unknown[]> {
  const keys = ingestKeys(h.deps.keys.prefix, pipelineId);
  const out: unknown[] = [];
  for (let s = 0; s < INGEST_SHARDS; s++) {
    for (const [, fields] of await h.redis.xrange(keys.stream(s), "-", "+")) {
      const lines = fields[fields.indexOf("r") + 1] ?? "";
      for (const line of lines.split("\n")) out.push(JSON.parse(line));
    }
  }
  return out;
}

/** The JSON body of an ingest answer. */
const answer = async (r: Response) => (await r.json()) as { error?: string; accepted?: number };

const ndjson = (records: readonly object[]) => records.map((r) => JSON.stringify(r)).join("\n");

describe("webhook ingest URL", () => {
  it("answers 202 only with the pipeline's token, once the records are in Redis", async () => {
    const { api, id, token, path } = await pipelineWithToken();
    expect(path).toBe(`/api/ingest/${id}`);
    expect(token).toMatch(/^slu_[A-Za-z0-9_-]{43}$/);

    const none = await post(id, ndjson([{ order_id: "a" }]));
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toContain("Bearer");
    expect((await post(id, ndjson([{ order_id: "a" }]), { token: `${token}x` })).status).toBe(401);
    const elsewhere = await post("no-such-pipeline", ndjson([{ order_id: "a" }]), { token });
    expect(elsewhere.status).toBe(403);
    expect((await answer(elsewhere)).error).toBe("this ingest token belongs to another pipeline's ingest URL");
    expect(await stored(id)).toEqual([]);

    const ok = await post(
      id,
      ndjson([
        { order_id: "a", amount: 1.5 },
        { order_id: "b", amount: 2 },
      ]),
      { token },
    );
    expect(ok.status).toBe(202);
    expect(await answer(ok)).toEqual({ accepted: 2 });
    const array = await post(id, JSON.stringify([{ order_id: "c" }]), { token, type: "application/json" });
    expect(array.status).toBe(202);
    expect(await stored(id)).toEqual(
      expect.arrayContaining([{ order_id: "a", amount: 1.5 }, { order_id: "b", amount: 2 }, { order_id: "c" }]),
    );
    expect(await api.ingest.status({ pipelineId: id })).toMatchObject({ enabled: true, pending: 3 });
  });

  it("refuses a malformed body with where it is wrong, and keeps nothing of it", async () => {
    const { api, id, token } = await pipelineWithToken();
    const bad = await post(id, `${JSON.stringify({ order_id: "a" })}\n{"order_id": "b",\n`, { token });
    expect(bad.status).toBe(400);
    expect((await answer(bad)).error).toMatch(/^line 2: /);
    const notObject = await post(id, `${JSON.stringify({ order_id: "a" })}\n42`, { token });
    expect(await answer(notObject)).toEqual({ error: "line 2: expected a JSON object, found a number" });
    const wrongType = await post(id, "order_id=a", { token, type: "text/plain" });
    expect(wrongType.status).toBe(415);
    expect((await answer(wrongType)).error).toContain('Content-Type "text/plain" is not accepted');
    expect(await stored(id)).toEqual([]);
    expect((await api.ingest.status({ pipelineId: id })).pending).toBe(0);
  });

  it("says when the backlog is full or a body too large, and stores nothing then", async () => {
    const { id, token } = await pipelineWithToken();
    const tight = { ...h.deps, limits: { maxBacklog: 3, maxBodyBytes: 200, retryAfterSeconds: 7 } };
    expect((await post(id, ndjson([{ order_id: 1 }, { order_id: 2 }]), { token }, tight)).status).toBe(202);
    const full = await post(id, ndjson([{ order_id: 3 }, { order_id: 4 }]), { token }, tight);
    expect(full.status).toBe(503);
    expect(full.headers.get("retry-after")).toBe("7");
    const many = await post(id, ndjson([1, 2, 3, 4].map((n) => ({ order_id: n }))), { token }, tight);
    expect(many.status).toBe(413);
    const large = await post(id, ndjson([{ order_id: "x".repeat(300) }]), { token }, tight);
    expect(large.status).toBe(413);
    expect((await answer(large)).error).toContain("larger than 200 bytes");
    expect(await stored(id)).toEqual([{ order_id: 1 }, { order_id: 2 }]);
  });

  it("answers 503 and stores nothing while Redis cannot be reached", async () => {
    const { id, token } = await pipelineWithToken();
    const dead = new Redis({
      port: await freePort(),
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    dead.on("error", () => {}); // refused connections are the point here
    try {
      const r = await post(id, ndjson([{ order_id: "a" }]), { token }, { ...h.deps, redis: dead });
      expect(r.status).toBe(503);
      expect(r.headers.get("retry-after")).toBe("5");
      expect((await answer(r)).error).toBe("the records could not be stored right now; retry later");
    } finally {
      dead.disconnect();
    }
    expect(await stored(id)).toEqual([]);
  });

  it("keeps several tokens, revokes one at once, and forgets everything with the pipeline", async () => {
    const { api, id, token } = await pipelineWithToken();
    const next = await api.ingest.createToken({ pipelineId: id, name: "new sender", expiresInDays: 30 });
    expect((await post(id, ndjson([{ order_id: "old" }]), { token })).status).toBe(202);
    expect((await post(id, ndjson([{ order_id: "new" }]), { token: next.secret })).status).toBe(202);

    const first = (await api.ingest.status({ pipelineId: id })).tokens.find((t) => t.id !== next.token.id)!;
    await api.ingest.revokeToken({ pipelineId: id, id: first.id });
    const revoked = await post(id, ndjson([{ order_id: "x" }]), { token });
    expect(revoked.status).toBe(401);
    expect((await answer(revoked)).error).toMatch(/^this API token was revoked at /);
    expect((await post(id, ndjson([{ order_id: "y" }]), { token: next.secret })).status).toBe(202);
    const status = await api.ingest.status({ pipelineId: id });
    expect(status.enabled).toBe(true);
    expect(status.tokens.map((t) => [t.name, t.state, t.scopes, t.pipelineId])).toEqual([
      ["new sender", "active", ["ingest"], id],
      ["Webhook", "revoked", ["ingest"], id],
    ]);
    await api.ingest.revokeToken({ pipelineId: id, id: next.token.id });
    expect((await api.ingest.status({ pipelineId: id })).enabled).toBe(false);

    const other = await h.caller((await h.signUp("Stranger")).cookie);
    expect((await rejects(other.api.ingest.createToken({ pipelineId: id }))).code).toBe("NOT_FOUND");
    expect((await rejects(other.api.ingest.revokeToken({ pipelineId: id, id: first.id }))).code).toBe("NOT_FOUND");

    await api.pipelines.delete({ id });
    const keys = ingestKeys(h.deps.keys.prefix, id);
    expect(await h.redis.exists(keys.meta, ...keys.streams())).toBe(0);
    expect(await h.db.apiToken.count({ where: { pipelineId: id } })).toBe(0);
  });
});

describe("webhook source through the engine", () => {
  it("delivers records posted before and during the run, and dead-letters one that does not fit", async () => {
    const worker = new FleetWorker({
      connect: () =>
        new Redis(process.env.SLUICE_TEST_REDIS_URL ?? "redis://127.0.0.1:6379", { maxRetriesPerRequest: null }),
      prefix: h.deps.keys.prefix,
      catalog,
      runtimes,
      workerId: "ingester",
    });
    await worker.start();
    try {
      const { api, id, token } = await pipelineWithToken();
      const early = Array.from({ length: 600 }, (_, i) => ({ order_id: `e${i}`, amount: i }));
      expect((await post(id, ndjson(early), { token })).status).toBe(202);

      const { id: runId } = await api.runs.start({ pipelineId: id });
      const late = Array.from({ length: 400 }, (_, i) => ({ order_id: `l${i}`, amount: i / 2 }));
      expect((await post(id, ndjson(late.slice(0, 200)), { token })).status).toBe(202);
      expect((await post(id, ndjson([{ order_id: "bad", amount: "twelve" }]), { token })).status).toBe(202);
      expect((await post(id, ndjson(late.slice(200)), { token })).status).toBe(202);

      const snapshot = await waitFor(
        async () => {
          const s = await readRunSnapshot(h.redis, h.deps.keys, runId);
          return s?.nodes.out?.in === 1000 && s.nodes.src?.errors === 1 ? s : undefined;
        },
        30_000,
        () => `waiting for 1000 records and 1 error in run ${runId}`,
      );
      expect(snapshot.nodes.src).toEqual({ in: 0, out: 1000, errors: 1 });
      const tail = await readTail(h.redis, h.deps.keys, runId, "out", 1000);
      const got = tail.map((t) => t.record as { order_id: string; amount: number; received_at: number });
      expect(got.map((r) => r.order_id).sort()).toEqual([...early, ...late].map((r) => r.order_id).sort());
      expect(got.every((r) => typeof r.received_at === "number" && r.received_at > 0)).toBe(true);

      const { letters } = await api.runs.deadLetters({ runId });
      expect(letters).toHaveLength(1);
      expect(letters[0]).toMatchObject({ nodeId: "src" });
      expect(letters[0]!.error).toContain("amount");

      // Read and committed: the backlog is empty again.
      await waitFor(async () => (await api.ingest.status({ pipelineId: id })).pending === 0, 10_000);
      await api.runs.stop({ runId });
    } finally {
      await worker.close();
    }
  });
});
