// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${NAME} is the connections file syntax under test
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { testConnectionTypes } from "@sluice/test-kit/test-connections";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConnections, readConnectionsFile } from "../src/connections-file";

const env = { PG_PASSWORD: "s3cr3t: #not a comment", PG_PORT: "6432" };
const parse = (value: unknown, e: Record<string, string | undefined> = env) =>
  parseConnections("conns.yaml", value, e, testConnectionTypes);

describe("connections file", () => {
  it("reads each connection's settings with ${ENV} filled in after parsing, typed where the field is", () => {
    const r = parse({
      warehouse: {
        type: "testdb",
        host: "db.internal",
        user: "u_${PG_PORT}",
        port: "${PG_PORT}",
        password: "${PG_PASSWORD}",
      },
      queue: { type: "othermq", url: "amqp://x/$${literal}" },
    });
    expect(r).toEqual({
      ok: true,
      bundle: {
        warehouse: {
          type: "testdb",
          config: { host: "db.internal", user: "u_6432", port: 6432, password: "s3cr3t: #not a comment" },
        },
        queue: { type: "othermq", config: { url: "amqp://x/${literal}" } },
      },
    });
  });

  it("names the file, the connection and the field of every problem, and never prints a value", () => {
    const r = parse(
      {
        warehouse: { type: "testdb", host: "h", user: "u", password: "${PG_PASSWRD}" },
        typo: { type: "testbd" },
        bad: { type: "testdb", host: "h", user: "u", port: "${PG_PASSWORD}", password: "${PG_PASSWORD}" },
        "no spaces": { type: "othermq", url: "x" },
        untyped: { url: "x" },
      },
      env,
    );
    expect(r.ok).toBe(false);
    const problems = r.ok ? [] : r.problems;
    expect(problems).toEqual([
      'conns.yaml: connection "warehouse": password: the environment variable PG_PASSWRD is not set',
      'conns.yaml: connection "typo": type: unknown connection type "testbd" (did you mean "testdb"?)',
      'conns.yaml: connection "bad": port: Invalid input: expected number, received string',
      `conns.yaml: connection "no spaces": use letters, digits, '_', '.' and '-' in the name (starting with a letter or digit)`,
      'conns.yaml: connection "untyped": type: say which kind of connection it is (othermq, testdb)',
    ]);
    expect(problems.join("\n")).not.toContain(env.PG_PASSWORD);
    expect(parse(["a"])).toEqual({
      ok: false,
      problems: ["conns.yaml: expected a mapping of connection names to their settings"],
    });
  });
});

describe("reading the file", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "sluice-conns-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("reads YAML and JSON, and says where it cannot", async () => {
    const yaml = path.join(dir, "c.yaml");
    await writeFile(yaml, "warehouse:\n  type: othermq\n  url: amqp://${HOST}\n");
    expect(await readConnectionsFile(yaml, { HOST: "mq" }, testConnectionTypes)).toEqual({
      ok: true,
      bundle: { warehouse: { type: "othermq", config: { url: "amqp://mq" } } },
    });
    const json = path.join(dir, "c.json");
    await writeFile(json, '{"warehouse": {"type": "othermq", "url": 1}');
    const broken = await readConnectionsFile(json, {}, testConnectionTypes);
    expect(broken).toMatchObject({ ok: false, unreadable: true });
    expect(broken.ok ? "" : broken.problems[0]).toMatch(/c\.json:1:\d+: not valid JSON/);
    expect(await readConnectionsFile(path.join(dir, "none.yaml"), {}, testConnectionTypes)).toEqual({
      ok: false,
      problems: [`${path.join(dir, "none.yaml")}: no such file`],
      unreadable: true,
    });
  });
});
