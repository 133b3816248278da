import { randomBytes } from "node:crypto";
import { sealSecrets } from "@sluice/api/connections/connection-secrets";
import { createDb, type Db } from "@sluice/db/client";
import { secretKeyId } from "@sluice/pipeline/control/secret-box";
import { createTestDatabase, type TestDatabase, testRedisUrl, uniquePrefix } from "@sluice/scripts/lib/test-db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SecretsOptions, secretsCommand } from "../src/commands/secrets";
import type { Output } from "../src/io";
import { main } from "../src/main";

// `sluice secrets status` and `rotate` against a real database and Redis: what the operator reads, the exit
// status, and the configuration mistakes it names.

const A = randomBytes(32);
const B = randomBytes(32);
const C = randomBytes(32);
const hex = (key: Uint8Array) => Buffer.from(key).toString("hex");
const prefix = uniquePrefix("cli-secrets");
const SECRETS = ["pw-one-1d9a", "pw-two-77ce", "pw-three-e01b"];

let database: TestDatabase;
let db: Db;
let workspaceId: string;

beforeAll(async () => {
  database = await createTestDatabase("cli-secrets");
  db = createDb(database.url, { poolSize: 2 });
  workspaceId = (await db.workspace.create({ data: { name: "Acme", slug: "acme" } })).id;
  for (const [i, password] of SECRETS.entries()) {
    const row = await db.connection.create({
      data: { workspaceId, name: `db-${i + 1}`, type: "postgres", config: { host: "h" }, secretFields: ["password"] },
    });
    await db.connection.update({
      where: { id: row.id },
      data: { secrets: await sealSecrets(A, row.id, { password }) },
    });
  }
});

afterAll(async () => {
  await db?.$disconnect();
  await database?.drop();
});

async function secrets(action: SecretsOptions["action"], env: Record<string, string>, json = false) {
  const out: string[] = [];
  const err: string[] = [];
  const io: Output = { out: (t) => out.push(t), err: (t) => err.push(t) };
  const code = await secretsCommand(
    { action, json, batchSize: 2, prefix, env: { DATABASE_URL: database.url, REDIS_URL: testRedisUrl(), ...env } },
    io,
  );
  const text = { out: out.join("\n"), err: err.join("\n") };
  for (const secret of SECRETS) expect(`${text.out}${text.err}`).not.toContain(secret);
  return { code, ...text };
}

const rotating = { SLUICE_SECRET_KEY: hex(B), SLUICE_SECRET_KEY_PREVIOUS: hex(A) };

describe("sluice secrets", () => {
  it("refuses bad configuration with exit 2 and a sentence naming the variable", async () => {
    const same = await secrets("status", {
      SLUICE_SECRET_KEY: hex(B),
      SLUICE_SECRET_KEY_PREVIOUS: `${hex(A)},${hex(B)}`,
    });
    expect(same.code).toBe(2);
    expect(same.err).toBe(
      "sluice secrets: SLUICE_SECRET_KEY_PREVIOUS (key 2 of 2) is the same key as SLUICE_SECRET_KEY: list only the other keys secrets may be sealed with",
    );
    const short = await secrets("rotate", { SLUICE_SECRET_KEY: hex(B).slice(1) });
    expect(short.err).toContain("SLUICE_SECRET_KEY must be 32 bytes written as 64 hex characters");
    expect(short.err).toContain("it has 63 hex characters");
    const notHex = await secrets("rotate", { ...rotating, SLUICE_SECRET_KEY_PREVIOUS: "correct-horse-battery" });
    expect(notHex.err).toContain("SLUICE_SECRET_KEY_PREVIOUS must be 32 bytes");
    expect(notHex.err).not.toContain("correct-horse");
    expect((await secrets("status", {})).err).toContain("SLUICE_SECRET_KEY is not set");
    expect((await secrets("status", { ...rotating, DATABASE_URL: "" })).err).toContain("DATABASE_URL is not set");
    const noRedis = await secrets("status", { ...rotating, REDIS_URL: "redis://127.0.0.1:1" });
    expect(noRedis.code).toBe(2);
    expect(noRedis.err).toContain("cannot reach Redis at 127.0.0.1:1");
    const noDb = await secrets("status", {
      ...rotating,
      DATABASE_URL: "postgresql://sluice:hunter2@127.0.0.1:1/sluice",
    });
    expect(noDb.code).toBe(2);
    expect(noDb.err).toContain("cannot reach PostgreSQL at 127.0.0.1:1");
    expect(noDb.err).not.toContain("hunter2");
  });

  it("says what to do when called wrongly", async () => {
    const err: string[] = [];
    const io: Output = { out: () => {}, err: (t) => err.push(t) };
    expect(await main(["secrets"], io)).toBe(2);
    expect(err.join("\n")).toContain("sluice secrets status, or sluice secrets rotate");
    expect(await main(["secrets", "rotate", "--batch-size", "0"], io)).toBe(2);
    expect(err.join("\n")).toContain("--batch-size takes a whole number from 1 to 10000");
  });

  it("counts the values per key id, rotates them to the current key, and then says the old key can go", async () => {
    const [a, b] = [await secretKeyId(A), await secretKeyId(B)];
    const before = await secrets("status", rotating);
    expect(before.code).toBe(1);
    expect(before.out).toContain(
      `current key ${b} (SLUICE_SECRET_KEY); previous keys ${a} (SLUICE_SECRET_KEY_PREVIOUS)`,
    );
    expect(before.out).toMatch(new RegExp(`${a}\\s+previous\\s+3\\s+0\\s+0`));
    expect(before.out).toContain("3 sealed values not under the current key: `sluice secrets rotate` re-seals them");

    const rotated = await secrets("rotate", rotating);
    expect(rotated.code).toBe(0);
    expect(rotated.out).toContain(`re-sealed under key ${b}: 3 connections, 0 runs, 0 jobs`);
    const again = await secrets("rotate", rotating, true);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.out)).toMatchObject({
      currentKeyId: b,
      resealed: { connections: 0, runs: 0, jobs: 0 },
      alreadyCurrent: { connections: 3, runs: 0, jobs: 0 },
      problems: [],
    });

    const after = await secrets("status", { SLUICE_SECRET_KEY: hex(B) });
    expect(after.code).toBe(0);
    expect(after.out).toContain(`every sealed value (3) is under the current key ${b}`);
  });

  it("names the connection whose value no key given opens, and exits 1", async () => {
    const row = await db.connection.create({
      data: { workspaceId, name: "orphan", type: "postgres", config: {}, secretFields: ["password"] },
    });
    await db.connection.update({
      where: { id: row.id },
      data: { secrets: await sealSecrets(C, row.id, { password: SECRETS[0] }) },
    });
    const c = await secretKeyId(C);
    const status = await secrets("status", { SLUICE_SECRET_KEY: hex(B) });
    expect(status.code).toBe(1);
    expect(status.out).toMatch(new RegExp(`${c}\\s+not configured\\s+1\\s+0\\s+0`));
    expect(status.out).toContain(
      `connection "orphan" in workspace "acme": it was sealed with key ${c}, which is neither SLUICE_SECRET_KEY nor one of SLUICE_SECRET_KEY_PREVIOUS`,
    );
    const rotate = await secrets("rotate", { SLUICE_SECRET_KEY: hex(B) });
    expect(rotate.code).toBe(1);
    expect(rotate.out).toContain('left as they were:\n  connection "orphan" in workspace "acme"');
    // Given the key it needs, it is rotated too.
    const fixed = await secrets("rotate", { SLUICE_SECRET_KEY: hex(B), SLUICE_SECRET_KEY_PREVIOUS: hex(C) });
    expect(fixed.code).toBe(0);
    expect(fixed.out).toContain(`re-sealed under key ${await secretKeyId(B)}: 1 connection, 0 runs, 0 jobs`);
  });
});
