import { bodyRecords, IngestBodyError } from "@sluice/nodes/connectors/http/ingest-body";
import type { ApiHarness } from "@sluice/test-kit/api-harness";
import { TRPCError } from "@trpc/server";
import { getHTTPStatusCodeFromError } from "@trpc/server/http";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { handleLimitedIngestRequest } from "../src/ingest/ingest-service";
import {
  type Caller,
  callProcedure,
  createRoleHarness,
  listProcedures,
  type ProcedureInfo,
  type RoleFixture,
} from "./role-fixture";

// Malformed input to every procedure of appRouter (listed from the router) as an owner, so no role check stops a call
// before its schema and service see the input, and to the ingest endpoint: the answer is a success or a 4xx with a
// message — never a 5xx — within 5 s, and a refused call leaves no row behind. Inputs are either wholly wrong or a
// valid sample with one part broken (wrong type, NUL, unpaired surrogate, number past int4, deep or huge JSON, long
// string, odd Unicode, field missing or added).

const RUNS_PER_PROCEDURE = 8;
const CALL_BOUND_MS = 5000;

let h: ApiHarness;
let fx: RoleFixture;
const procedures = listProcedures();

beforeAll(async () => {
  ({ h, fx } = await createRoleHarness("fuzz"));
});
afterAll(async () => {
  await h?.close();
});

function nested(depth: number, kind: "array" | "object"): unknown {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = kind === "array" ? [value] : { a: value };
  return value;
}

const LONG = "x".repeat(100_000);
const DEEP_ARRAY = nested(5000, "array");
const DEEP_OBJECT = nested(5000, "object");
const WIDE = Array.from({ length: 20_000 }, (_, i) => ({ i, text: "row" }));

/** Values that broke, or could break, something on the way to the database. */
const nasty: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom<unknown>(
    "\u0000",
    "name\u0000",
    "\ud800",
    "tail\udc00",
    "\u202eevil",
    "\ufeff",
    "e\u0301",
    "𝕏𝕐",
    "",
    "   ",
    "%_\\",
    "' OR 1=1 --",
    "../../etc/passwd",
    "__proto__",
    LONG,
    2 ** 31,
    2 ** 31 - 1,
    -(2 ** 31) - 1,
    2 ** 53,
    Number.MAX_SAFE_INTEGER + 2,
    -1,
    0,
    0.5,
    1e308,
    -0,
    null,
    true,
    false,
    [],
    {},
    DEEP_ARRAY,
    DEEP_OBJECT,
    WIDE,
    JSON.parse('{"__proto__": {"polluted": true}}'),
  ),
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.integer(),
  fc.double(),
  fc.jsonValue({ maxDepth: 3 }),
);

/** A valid sample with one part broken: replaced, removed, or an unknown key added next to it. */
interface Mutation {
  pick: number;
  /** taint: a string gets a character PostgreSQL refuses inside it, a number goes past int4; the rest stays valid. */
  action: "taint" | "replace" | "delete" | "add";
  value: unknown;
}

const TAINTED_TEXT = ["\u0000", "\ud800", "\udc00"];
const TAINTED_NUMBERS = [2 ** 31, 2 ** 53, -(2 ** 31) - 1];

const mutation: fc.Arbitrary<Mutation> = fc.record({
  pick: fc.nat(),
  action: fc.oneof(
    { arbitrary: fc.constant("taint" as const), weight: 3 },
    { arbitrary: fc.constantFrom("replace" as const, "delete" as const, "add" as const), weight: 4 },
  ),
  value: nasty,
});

type Path = (string | number)[];

function pathsOf(value: unknown, path: Path = [], out: Path[] = []): Path[] {
  out.push(path);
  if (value !== null && typeof value === "object") {
    for (const [key, item] of Object.entries(value)) {
      pathsOf(item, [...path, Array.isArray(value) ? Number(key) : key], out);
    }
  }
  return out;
}

function tainted(leaf: unknown, pick: number): unknown {
  if (typeof leaf === "string") {
    const middle = Math.floor(leaf.length / 2);
    return `${leaf.slice(0, middle)}${TAINTED_TEXT[pick % TAINTED_TEXT.length]}${leaf.slice(middle)}`;
  }
  if (typeof leaf === "number") return TAINTED_NUMBERS[pick % TAINTED_NUMBERS.length];
  return undefined;
}

/**
 * One taint of every string and number leaf of `sample` (the kinds of taint taken in turn), one leaf at a time: the
 * cases random picks may miss.
 */
function everyTaint(sample: unknown): unknown[] {
  const cases: unknown[] = [];
  const paths = pathsOf(sample);
  const turns = { string: 0, number: 0 };
  paths.forEach((path, pick) => {
    let leaf: unknown = sample;
    for (const key of path) leaf = (leaf as Record<string | number, unknown>)[key];
    if (typeof leaf !== "string" && typeof leaf !== "number") return;
    const kind = typeof leaf === "string" ? "string" : "number";
    const variant = turns[kind]++ % (kind === "string" ? TAINTED_TEXT.length : TAINTED_NUMBERS.length);
    cases.push(mutate(sample, { pick: pick + variant * paths.length, action: "taint", value: null }));
  });
  return cases;
}

function mutate(sample: unknown, m: Mutation): unknown {
  const copy = structuredClone(sample) ?? {};
  const paths = pathsOf(copy);
  const path = paths[m.pick % paths.length]!;
  if (path.length === 0) return m.action === "replace" ? m.value : (tainted(copy, m.pick) ?? copy);
  let parent = copy as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, unknown>;
  const last = path.at(-1)!;
  if (m.action === "taint") parent[last] = tainted(parent[last], Math.floor(m.pick / paths.length)) ?? m.value;
  else if (m.action === "replace") parent[last] = m.value;
  else if (m.action === "delete") {
    if (Array.isArray(parent)) parent.splice(Number(last), 1);
    else delete parent[last];
  } else if (!Array.isArray(parent)) parent[`unexpected_${String(last)}`] = m.value;
  else parent.push(m.value);
  return copy;
}

/** The wholly wrong, or one part of a valid input broken. */
const inputCase = fc.oneof(
  {
    arbitrary: fc.record({ kind: fc.constant("whole" as const), value: fc.oneof(nasty, fc.anything({ maxDepth: 3 })) }),
    weight: 1,
  },
  { arbitrary: fc.record({ kind: fc.constant("mutated" as const), mutation }), weight: 3 },
);

const COUNTED = [
  "User",
  "Session",
  "Workspace",
  "Membership",
  "Invitation",
  "ApiToken",
  "Pipeline",
  "PipelineVersion",
  "Connection",
  "Schedule",
  "Run",
];

/** How many rows each table holds, in one round trip. */
async function rowCounts(): Promise<Record<string, number>> {
  const sql = `SELECT ${COUNTED.map((t) => `(SELECT count(*)::int FROM "${t}") AS "${t}"`).join(", ")}`;
  const [row] = await h.db.$queryRawUnsafe<Record<string, number>[]>(sql);
  return row!;
}

function withinBound<T>(work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${CALL_BOUND_MS} ms`)), CALL_BOUND_MS);
  });
  return Promise.race([work, bound]).finally(() => clearTimeout(timer));
}

function preview(value: unknown): string {
  try {
    const text = JSON.stringify(value, (_, v) => (typeof v === "string" && v.length > 60 ? `${v.slice(0, 60)}…` : v));
    return text === undefined ? String(value) : text.slice(0, 300);
  } catch {
    return "(not JSON: too deep to print)";
  }
}

/** One call as the owner: a success, or a 4xx with a sentence and no row left behind, within the bound. */
async function checkCall(info: ProcedureInfo, input: unknown): Promise<void> {
  const cookie = info.path === "auth.signOut" ? await fx.freshCookie(fx.members.OWNER) : fx.members.OWNER.cookie;
  const api: Caller = await fx.callerAs(cookie, fx.workspaceId);
  const before = await rowCounts();
  const started = performance.now();
  let error: unknown = null;
  try {
    await withinBound(callProcedure(api, info, input));
  } catch (err) {
    error = err;
  }
  const elapsed = performance.now() - started;
  const after = await rowCounts();
  await fx.restoreAfter(info.path); // the owner may have handed the workspace over: back for the next case
  const context = `${info.path} with ${preview(input)}: ${error instanceof Error ? error.message : "success"}`;
  expect(elapsed, context).toBeLessThan(CALL_BOUND_MS);
  if (error === null) return;
  expect(error, context).toBeInstanceOf(TRPCError);
  const trpc = error as TRPCError;
  expect(trpc.code, context).not.toBe("INTERNAL_SERVER_ERROR");
  expect(getHTTPStatusCodeFromError(trpc), context).toBeLessThan(500);
  expect(trpc.message.trim().length, context).toBeGreaterThan(0);
  expect(trpc.message, context).not.toMatch(/prisma|invocation|\bat .*\.ts:\d+/i);
  expect(after, `${context}\nrows changed by a refused call`).toEqual(before);
}

describe("every procedure, fed malformed input as an owner", () => {
  for (const info of procedures) {
    it(info.path, async () => {
      for (const input of everyTaint(await fx.sampleInput(info.path))) await checkCall(info, input);
      await fc.assert(
        fc.asyncProperty(inputCase, async (c) => {
          const input = c.kind === "whole" ? c.value : mutate(await fx.sampleInput(info.path), c.mutation);
          await checkCall(info, input);
        }),
        { numRuns: RUNS_PER_PROCEDURE },
      );
    });
  }
});

const INGEST_STATUSES = [202, 400, 413, 415];

const ingestBody = fc.oneof(
  fc.string({ unit: "binary", maxLength: 200 }),
  fc.json({ maxDepth: 4 }),
  fc
    .array(fc.jsonValue({ maxDepth: 3 }), { maxLength: 5 })
    .map((rows) => rows.map((r) => JSON.stringify(r)).join("\n")),
  fc
    .array(fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 })), { maxLength: 5 })
    .map((rows) => JSON.stringify(rows)),
  fc
    .record({ depth: fc.integer({ min: 60, max: 200_000 }), open: fc.constantFrom("[", '{"a":') })
    .map(({ depth, open }) => `${open.repeat(depth)}1${(open === "[" ? "]" : "}").repeat(depth)}`),
  fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes).toString("latin1")),
);

const contentType = fc.constantFrom(
  "application/json",
  "application/json; charset=utf-8",
  "application/x-ndjson",
  "text/plain",
  "",
);

describe("webhook ingest, fed malformed bodies", () => {
  it("parses any body into records or refuses it with a 4xx sentence, never anything else", () => {
    fc.assert(
      fc.property(ingestBody, fc.constantFrom("json" as const, "ndjson" as const), (text, format) => {
        try {
          const lines = bodyRecords(text, format);
          for (const line of lines) expect(typeof JSON.parse(line)).toBe("object");
        } catch (err) {
          expect(err, `${format}: ${text.slice(0, 80)}`).toBeInstanceOf(IngestBodyError);
          expect((err as IngestBodyError).status).toBeLessThan(500);
        }
      }),
      { numRuns: 150 },
    );
  });

  it("answers every request with 202 or a 4xx and a sentence, within 5 s", async () => {
    const owner = await fx.callerAs(fx.members.OWNER.cookie, fx.workspaceId);
    const { secret: token } = await owner.ingest.createToken({ pipelineId: fx.startPipelineId });
    const deps = { db: h.db, redis: h.redis, keys: h.deps.keys, limits: { maxBodyBytes: 256 * 1024 } };
    await fc.assert(
      fc.asyncProperty(ingestBody, contentType, async (body, type) => {
        const req = new Request(`http://sluice.test/api/ingest/${fx.startPipelineId}`, {
          method: "POST",
          headers: { authorization: `Bearer ${token}`, ...(type ? { "content-type": type } : {}) },
          body,
        });
        const started = performance.now();
        const res = await withinBound(handleLimitedIngestRequest(deps, fx.startPipelineId, req));
        const context = `${type}: ${body.slice(0, 80)} → ${res.status}`;
        expect(performance.now() - started, context).toBeLessThan(CALL_BOUND_MS);
        expect(INGEST_STATUSES, context).toContain(res.status);
        expect(res.headers.get("retry-after"), context).toBeNull();
        const answer = (await res.json()) as { error?: string; accepted?: number };
        if (res.status !== 202) expect(answer.error?.length, context).toBeGreaterThan(0);
      }),
      { numRuns: 150 },
    );
  });
});
