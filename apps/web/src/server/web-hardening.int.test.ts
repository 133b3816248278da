import { randomBytes } from "node:crypto";
import type { ApiDeps } from "@sluice/api/context";
import { RateLimits } from "@sluice/api/limits/rate-limits";
import { type ApiHarness, createApiHarness } from "@sluice/test-kit/api-harness";
import superjson, { type SuperJSONResult } from "superjson";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_BATCH_CALLS } from "../trpc/limits";
import { createHealthHandler, createIngestHandler } from "./api-routes";
import { createTrpcHandler } from "./trpc-handler";

// The web app's doors, served by the same handler functions the route files bind, with a real database and Redis:
// sign-in guesses inside batches are counted one by one and refused with 429 + Retry-After, batches and bodies are
// bounded, and every answer carries the security headers.

const MAX_BODY = 2 * 1024 * 1024;
const ATTACKER = "203.0.113.9";
const PASSWORD = "correct horse battery";

let h: ApiHarness;
let deps: ApiDeps;
let trpc: (req: Request) => Promise<Response>;
/** The same endpoint with tight per-address limits, so those tests hash few passwords. */
let tight: (req: Request) => Promise<Response>;

beforeAll(async () => {
  h = await createApiHarness("web-hardening");
  deps = {
    ...h.deps,
    secureCookies: true,
    // Defaults except where a smaller number keeps the test from hashing many passwords.
    rateLimits: new RateLimits(h.redis, h.deps.keys.prefix, {
      signInPerEmail: { points: 5, durationSeconds: 15 * 60 },
      ingestPerToken: { points: 3, durationSeconds: 60 },
    }),
  };
  trpc = createTrpcHandler(() => deps, { maxBodyBytes: MAX_BODY });
  const tightDeps: ApiDeps = {
    ...h.deps,
    secureCookies: true,
    rateLimits: new RateLimits(h.redis, `${h.deps.keys.prefix}:tight`, {
      signInPerAddress: { points: 4, durationSeconds: 600 },
      signUpPerAddress: { points: 3, durationSeconds: 3600 },
    }),
  };
  tight = createTrpcHandler(() => tightDeps, { maxBodyBytes: MAX_BODY });
});
afterAll(async () => {
  await h?.close();
});

interface TrpcAnswer {
  result?: unknown;
  error?: { message: string; data: { code: string; httpStatus: number } };
}

/** A call's answer as it crossed the wire, encoded by superjson like everything the tRPC endpoint sends. */
interface WireAnswer {
  result?: { data: SuperJSONResult };
  error?: SuperJSONResult;
}

/** Reads an answer (or a batch of them) as the browser's client does. */
async function decoded<T extends TrpcAnswer | TrpcAnswer[]>(response: Response): Promise<T> {
  const decode = (a: WireAnswer): TrpcAnswer => ({
    ...(a.result ? { result: { data: superjson.deserialize(a.result.data) } } : {}),
    ...(a.error ? { error: superjson.deserialize<NonNullable<TrpcAnswer["error"]>>(a.error) } : {}),
  });
  const body = (await response.json()) as WireAnswer | WireAnswer[];
  return (Array.isArray(body) ? body.map(decode) : decode(body)) as T;
}

/** One HTTP request carrying `inputs.length` calls of `path` as a tRPC batch, from `address`. */
function batch(path: string, inputs: unknown[], address: string): Request {
  const body = Object.fromEntries(inputs.map((input, i) => [String(i), superjson.serialize(input)]));
  return new Request(`http://sluice.test/api/trpc/${inputs.map(() => path).join(",")}?batch=1`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-forwarded-for": address },
    body: JSON.stringify(body),
  });
}

function expectSecurityHeaders(response: Response): void {
  expect(response.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
  expect(response.headers.get("content-security-policy")).not.toContain("unsafe-eval");
  expect(response.headers.get("x-frame-options")).toBe("DENY");
  expect(response.headers.get("x-content-type-options")).toBe("nosniff");
  expect(response.headers.get("referrer-policy")).toBe("strict-origin-when-cross-origin");
  expect(response.headers.get("permissions-policy")).toContain("camera=()");
  expect(response.headers.get("strict-transport-security")).toMatch(/^max-age=\d+/);
}

describe("sign-in rate limits inside tRPC batches", () => {
  it("counts each batched guess, answers 429 with Retry-After past the limit, and lets another user in meanwhile", async () => {
    const { email: victim } = await h.signUp("Victim");
    const { email: other } = await h.signUp("Other");
    const guesses = Array.from({ length: 150 }, (_, i) => ({ email: victim, password: `guess number ${i} of many` }));

    const attack = (async () => {
      const answers: { status: number; retryAfter: string | null; calls: TrpcAnswer[] }[] = [];
      // 150 guesses as full batches, sent together; one request may carry MAX_BATCH_CALLS calls.
      const requests: Promise<Response>[] = [];
      for (let i = 0; i < guesses.length; i += MAX_BATCH_CALLS) {
        requests.push(trpc(batch("auth.signIn", guesses.slice(i, i + MAX_BATCH_CALLS), ATTACKER)));
      }
      for (const response of await Promise.all(requests)) {
        answers.push({
          status: response.status,
          retryAfter: response.headers.get("retry-after"),
          calls: await decoded<TrpcAnswer[]>(response),
        });
      }
      return answers;
    })();

    // A real user signs in from elsewhere while the guesses are being answered.
    const started = Date.now();
    const legit = await trpc(batch("auth.signIn", [{ email: other, password: PASSWORD }], "198.51.100.7"));
    const legitMs = Date.now() - started;
    expect(legit.status).toBe(200);
    expect(legit.headers.get("set-cookie")).toMatch(/^sluice_session=/);
    expect(legitMs).toBeLessThan(10_000); // a safety bound, not a benchmark

    const answers = await attack;
    const calls = answers.flatMap((a) => a.calls);
    expect(calls).toHaveLength(150);
    const limited = calls.filter((c) => c.error?.data.code === "TOO_MANY_REQUESTS");
    const wrong = calls.filter((c) => c.error?.data.code === "UNAUTHORIZED");
    // Five guesses per email per 15 minutes were tried; every other one was refused before hashing.
    expect(wrong).toHaveLength(5);
    expect(limited).toHaveLength(145);
    expect(limited.every((c) => c.error?.data.httpStatus === 429)).toBe(true);
    // Past 30 calls the address's own limit (the default) refuses them first; either way the sentence says which.
    const messages = new Set(limited.map((c) => c.error?.message.replace(/try again in .*$/, "")));
    expect(messages).toEqual(
      new Set([
        "too many sign-in attempts for this email: at most 5 in 15 minutes; ",
        "too many sign-in attempts from your address: at most 30 in 15 minutes; ",
      ]),
    );
    // A request whose calls were all refused is a 429 with Retry-After; any request with a refused call says when.
    const allRefused = answers.filter((a) => a.calls.every((c) => c.error?.data.code === "TOO_MANY_REQUESTS"));
    expect(allRefused.length).toBeGreaterThanOrEqual(7);
    for (const a of allRefused) expect(a.status).toBe(429);
    for (const a of answers.filter((x) => x.calls.some((c) => c.error?.data.code === "TOO_MANY_REQUESTS"))) {
      const seconds = Number(a.retryAfter);
      expect(Number.isInteger(seconds) && seconds >= 1 && seconds <= 15 * 60, String(a.retryAfter)).toBe(true);
    }

    // The victim's own sign-in from another address is refused too while the email's window lasts (that is the
    // price of a per-email limit), and said so plainly.
    const victimTry = await trpc(batch("auth.signIn", [{ email: victim, password: PASSWORD }], "198.51.100.8"));
    expect(victimTry.status).toBe(429);
    expect(Number(victimTry.headers.get("retry-after"))).toBeGreaterThan(0);
  });

  it("limits sign-in attempts per client address across emails", async () => {
    const address = "203.0.113.77";
    const inputs = Array.from({ length: 10 }, (_, i) => ({
      email: `nobody-${i}@example.com`,
      password: "wrong guess",
    }));
    const response = await tight(batch("auth.signIn", inputs, address));
    const codes = (await decoded<TrpcAnswer[]>(response)).map((c) => c.error?.data.code);
    expect(codes.filter((c) => c === "UNAUTHORIZED")).toHaveLength(4);
    expect(codes.filter((c) => c === "TOO_MANY_REQUESTS")).toHaveLength(6);
    expect(response.headers.get("retry-after")).toMatch(/^\d+$/);
    const again = await tight(batch("auth.signIn", [{ email: "someone-else@example.com", password: "x" }], address));
    expect(again.status).toBe(429);
    expect((await decoded<TrpcAnswer[]>(again))[0]?.error?.message).toMatch(
      /^too many sign-in attempts from your address: at most 4 in 10 minutes; try again in /,
    );
  });

  it("limits sign-ups per client address, before hashing anything", async () => {
    const address = "203.0.113.200";
    const inputs = Array.from({ length: 5 }, (_, i) => ({
      email: `many-${i}-${randomBytes(3).toString("hex")}@example.com`,
      name: "Many",
      password: "x".repeat(5_000), // invalid: refused by its schema, costs nothing, counts nothing
    }));
    const invalid = await decoded<TrpcAnswer[]>(await tight(batch("auth.signUp", inputs, address)));
    expect(invalid.every((c) => c.error?.data.code === "BAD_REQUEST")).toBe(true);
    const valid = inputs.map((input) => ({ ...input, password: "a fine long password" }));
    const answer = await tight(batch("auth.signUp", valid, address));
    const codes = (await decoded<TrpcAnswer[]>(answer)).map((c) => c.error?.data.code ?? "OK");
    expect(codes.filter((c) => c === "OK")).toHaveLength(3);
    expect(codes.filter((c) => c === "TOO_MANY_REQUESTS")).toHaveLength(2);
    expect(answer.headers.get("retry-after")).toMatch(/^\d+$/);
    expect(await h.db.user.count({ where: { email: { in: valid.map((v) => v.email) } } })).toBe(3);
  });
});

describe("batch and body limits on the tRPC endpoint", () => {
  it("refuses a batch of more than MAX_BATCH_CALLS calls with 400 and a sentence, running none of them", async () => {
    const inputs = Array.from({ length: 150 }, () => ({ email: "someone@example.com", password: "a guess" }));
    const response = await trpc(batch("auth.signIn", inputs, "203.0.113.150"));
    expect(response.status).toBe(400);
    const body = await decoded<TrpcAnswer>(response);
    expect(body.error?.message).toBe(`a request may carry at most ${MAX_BATCH_CALLS} calls; this one carries 150`);
    expectSecurityHeaders(response);
    // Encoded commas are counted as well.
    const encoded = new Request(
      `http://sluice.test/api/trpc/${Array(21).fill("auth.me").join("%2C")}?batch=1&input=${encodeURIComponent("{}")}`,
    );
    expect((await trpc(encoded)).status).toBe(400);
  });

  it("refuses a 12 MB body with 413 after reading little more than the limit", async () => {
    const chunk = new Uint8Array(64 * 1024).fill(0x20);
    const total = 12 * 1024 * 1024;
    let pulled = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (pulled >= total) return controller.close();
        pulled += chunk.byteLength;
        controller.enqueue(chunk);
      },
    });
    const started = Date.now();
    const response = await trpc(
      new Request("http://sluice.test/api/trpc/auth.signIn", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
        duplex: "half",
      } as RequestInit),
    );
    expect(response.status).toBe(413);
    const answer = await decoded<TrpcAnswer>(response);
    expect(answer.error?.message).toMatch(/^the request body is larger than 2097152 bytes \(SLUICE_API_MAX_BODY\)/);
    expect(pulled).toBeLessThan(MAX_BODY + 4 * chunk.byteLength); // stopped reading once over the limit
    expect(Date.now() - started).toBeLessThan(5_000);
    expectSecurityHeaders(response);

    // A declared length over the limit is refused before any of it is read.
    const declared = await trpc(
      new Request("http://sluice.test/api/trpc/auth.signIn", {
        method: "POST",
        headers: { "content-type": "application/json", "content-length": String(total) },
        body: "{}",
      }),
    );
    expect(declared.status).toBe(413);
  });

  it("still serves ordinary calls, with the security headers", async () => {
    const response = await trpc(new Request("http://sluice.test/api/trpc/auth.me"));
    expect(response.status).toBe(200);
    expect(await decoded<TrpcAnswer>(response)).toEqual({ result: { data: null } });
    expectSecurityHeaders(response);
    expect(response.headers.get("content-security-policy")).toMatch(/^default-src 'none'/);
  });
});

describe("webhook ingest", () => {
  it("is rate-limited per pipeline and token with 429 + Retry-After, and carries the security headers", async () => {
    const { api } = await h.caller((await h.signUp("Sender")).cookie);
    const { id: pipelineId } = await api.pipelines.create({ name: `hook-${randomBytes(4).toString("hex")}` });
    const { secret: token } = await api.ingest.createToken({ pipelineId });
    const ingest = createIngestHandler(() => deps);
    const post = (bearer: string) =>
      ingest(
        new Request(`http://sluice.test/api/ingest/${pipelineId}`, {
          method: "POST",
          headers: { authorization: `Bearer ${bearer}`, "content-type": "application/json" },
          body: JSON.stringify({ n: 1 }),
        }),
        pipelineId,
      );
    const accepted = [await post(token), await post(token), await post(token)];
    for (const response of accepted) {
      expect(response.status).toBe(202);
      expectSecurityHeaders(response);
    }
    const refused = await post(token);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(((await refused.json()) as { error: string }).error).toMatch(
      /^too many requests to this ingest URL with this token: at most 3 in 1 minute/,
    );
    expectSecurityHeaders(refused);
    // Someone without the token has their own count: they cannot use up the sender's.
    const stranger = await post(`slu_${randomBytes(32).toString("base64url")}`);
    expect(stranger.status).toBe(401);
  });
});

describe("health", () => {
  it("answers with the security headers", async () => {
    // The harness's deps: secureCookies false, as over plain HTTP.
    const response = await createHealthHandler(() => h.deps)();
    expect([200, 503]).toContain(response.status);
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    expect(response.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
    expect(response.headers.get("strict-transport-security")).toBeNull(); // only over HTTPS
  });
});
