// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${NAME} is the connections file syntax under test
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { createConnectionCatalog } from "@sluice/pipeline/connection-definition";
import { createKeys } from "@sluice/pipeline/control/keys";
import { readTail } from "@sluice/pipeline/control/run-reader";
import {
  digest,
  testConnectionTypes,
  testDbPipeline,
  testNodeCatalog,
  testNodeRuntimes,
} from "@sluice/test-kit/test-connections";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunOptions, runCommand } from "../src/commands/run";
import type { Output } from "../src/io";

// `sluice run --connections FILE` on the real Redis, with a test-only connection type and a source that reads it.

const REDIS_URL = process.env.SLUICE_TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
const prefix = `t-cli-conns-${randomBytes(4).toString("hex")}`;
const types = { catalog: testNodeCatalog, runtimes: testNodeRuntimes, connectionTypes: testConnectionTypes };
const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "sluice-run-conns-"));
  await writeFile(path.join(dir, "pipeline.json"), JSON.stringify(testDbPipeline("warehouse", 7)));
  await writeFile(
    path.join(dir, "connections.yaml"),
    "warehouse:\n  type: testdb\n  host: db.internal\n  user: sluice\n  password: ${PG_PASSWORD}\n",
  );
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== "0");
  await redis.quit();
});

async function run(options: Partial<RunOptions>, env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const io: Output = { out: (t) => out.push(t), err: (t) => err.push(t) };
  const code = await runCommand(
    {
      file: path.join(dir, "pipeline.json"),
      workers: 1,
      params: [],
      json: true,
      redisUrl: REDIS_URL,
      prefix,
      // The local test servers listen on loopback, which `sluice run` connects to only where allowed.
      env: { SLUICE_CONNECTIONS_ALLOW: "127.0.0.0/8,[::1]/128", ...env },
      ...options,
    },
    io,
    undefined,
    types,
  );
  return { code, out: out.join("\n"), err: err.join("\n") };
}

describe("sluice run --connections", () => {
  it("hands the pipeline's connections to the workers sealed with a key made for the run", async () => {
    const password = `pw-${randomBytes(6).toString("hex")}`;
    const r = await run({ connections: path.join(dir, "connections.yaml") }, { PG_PASSWORD: password });
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    const snapshot = JSON.parse(r.out) as { runId: string; status: string; nodes: Record<string, { out: number }> };
    expect(snapshot).toMatchObject({ status: "completed", nodes: { src: { out: 7 } } });
    // The source read the password from the bundle (it emits its digest); Redis holds it only sealed.
    const tail = await readTail(redis, createKeys(prefix), snapshot.runId, "out", 10);
    expect(JSON.stringify(tail)).toContain(digest(password));
    expect(await redis.hget(createKeys(prefix).runMeta(snapshot.runId), "connections")).toMatch(/^v2\.[0-9a-f]{8}\./);
    expect(JSON.stringify(await redis.hgetall(createKeys(prefix).runMeta(snapshot.runId)))).not.toContain(password);
  });

  it("refuses a malformed SLUICE_CONNECTIONS_ALLOW before running, naming the variable and the entry", async () => {
    const r = await run(
      { connections: path.join(dir, "connections.yaml") },
      { PG_PASSWORD: "x", SLUICE_CONNECTIONS_ALLOW: "127.0.0.1:99999" },
    );
    expect(r.code).toBe(2);
    expect(r.err).toBe(
      'sluice run: SLUICE_CONNECTIONS_ALLOW: "127.0.0.1:99999" is not a valid entry (the port must be 1 to 65535); write an address range with an optional port, e.g. 127.0.0.1/32:5432, 10.0.0.0/8 or [::1]/128:6379',
    );
  });

  it("says which connection is missing, and where to give it", async () => {
    const r = await run({});
    expect(r.code).toBe(1);
    expect(r.err).toContain('node src config.connection: there is no connection named "warehouse"');
    expect(r.err).toContain("--connections FILE");
  });

  it("names the environment variable a connection needs", async () => {
    const r = await run({ connections: path.join(dir, "connections.yaml") });
    expect(r.code).toBe(1);
    expect(r.err).toBe(
      `${path.join(dir, "connections.yaml")}: connection "warehouse": password: the environment variable PG_PASSWORD is not set`,
    );
  });

  it("needs SLUICE_SECRET_KEY to hand connections to a fleet outside the process, and a well-formed one", async () => {
    const file = path.join(dir, "connections.yaml");
    const fleet = await run({ connections: file, workers: 0 }, { PG_PASSWORD: "x" });
    expect(fleet.code).toBe(2);
    expect(fleet.err).toContain("with --workers 0");
    expect(fleet.err).toContain("SLUICE_SECRET_KEY");
    const malformed = await run({ connections: file }, { PG_PASSWORD: "x", SLUICE_SECRET_KEY: "short" });
    expect(malformed.code).toBe(2);
    expect(malformed.err).toContain("SLUICE_SECRET_KEY must be 32 bytes");
    expect(malformed.err).not.toContain("short");
  });

  it("checks the connection's type against what the node asks for", async () => {
    const wrong = path.join(dir, "wrong.yaml");
    await writeFile(wrong, "warehouse: { type: othermq, url: amqp://x }\n");
    const r = await run({ connections: wrong });
    expect(r.code).toBe(1);
    expect(r.err).toContain('connection "warehouse" is a othermq connection; Test DB table needs a testdb connection');
    // A build that does not know the type says so, naming the file and the connection.
    const none = await runCommand(
      {
        file: path.join(dir, "pipeline.json"),
        workers: 1,
        params: [],
        json: true,
        redisUrl: REDIS_URL,
        prefix,
        connections: wrong,
      },
      {
        out: () => {},
        err: (t) => expect(t).toContain(`${wrong}: connection "warehouse": type: unknown connection type "othermq"`),
      },
      undefined,
      { ...types, connectionTypes: createConnectionCatalog([]) },
    );
    expect(none).toBe(1);
  });
});
