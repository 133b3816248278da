import { spawn } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { PipelineDefinition } from "@sluice/pipeline/definition";
import { type ApiHarness, createApiHarness } from "@sluice/test-kit/api-harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXIT } from "../src/io";
import { main } from "../src/main";
import { runSluice, type ServedApi, serveApi } from "./api-server-support";

// Pipelines as code, end to end: the real tRPC API served over HTTP on loopback (the router and request context the
// web app's /api/trpc route uses), and the `sluice` command's main function calling it with an API token, as CI would.
// A directory is applied twice (nothing changes the second time), then with one edit (one new version), then a stale
// file after an edit made as the editor makes it (refused with the diff; --force applies it).

let h: ApiHarness;
let api: ServedApi;
let base: string;
let home: string;
let dir: string;
let secret: string;
let session: Awaited<ReturnType<ApiHarness["caller"]>>["api"];
const printed: string[] = [];

beforeAll(async () => {
  h = await createApiHarness("cli-pipelines-as-code");
  api = await serveApi(h);
  base = api.base;

  const { cookie } = await h.signUp("Grace");
  session = (await h.caller(cookie)).api;
  secret = (await session.tokens.createPersonal({ name: "ci", scopes: ["read", "write", "run"], expiresInDays: 1 }))
    .secret;
  home = await mkdtemp(path.join(os.tmpdir(), "sluice-cli-home-"));
  dir = await mkdtemp(path.join(os.tmpdir(), "sluice-cli-pipelines-"));
});

afterAll(async () => {
  await api?.close();
  await h?.close();
  if (home) await rm(home, { recursive: true, force: true });
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Runs `sluice ARGS` with the stored login (XDG_CONFIG_HOME is the test's own) and what it printed. */
function sluice(args: string[], env: Record<string, string> = {}) {
  return runSluice(args, { XDG_CONFIG_HOME: home, ...env }, printed);
}

function pipelineYaml(name: string, rate: number, filter = "n >= 0"): string {
  return `apiVersion: sluice/v1
kind: Pipeline
metadata:
  name: ${name}
spec:
  nodes:
    - { id: gen, type: source.generator, config: { rate: ${rate}, fields: { n: { kind: int } } } }
    - { id: keep, type: transform.filter, config: { where: "${filter}" } }
    - { id: out, type: sink.console }
  edges: [ { from: gen, to: keep }, { from: keep, to: out } ]
`;
}

const BIN = fileURLToPath(new URL("../bin/sluice.mjs", import.meta.url));

/** The `sluice` command as CI runs it: a process, `input` on standard input. */
function sluiceProcess(args: string[], env: Record<string, string>, input = "") {
  const { SLUICE_TOKEN: _token, SLUICE_URL: _url, SLUICE_WORKSPACE: _workspace, ...inherited } = process.env;
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...inherited, ...env } });
  let out = "";
  let err = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (err += d.toString()));
  child.stdin.end(input);
  return new Promise<{ code: number | null; out: string; err: string }>((resolve) =>
    child.on("close", (code) => resolve({ code, out, err })),
  );
}

async function versionCounts(): Promise<Record<string, number>> {
  const rows = await h.db.pipeline.findMany({ select: { name: true, _count: { select: { versions: true } } } });
  return Object.fromEntries(rows.map((r) => [r.name, r._count.versions]));
}

async function latest(name: string): Promise<PipelineDefinition> {
  const p = await h.db.pipeline.findFirstOrThrow({ where: { name } });
  const v = await h.db.pipelineVersion.findFirstOrThrow({ where: { pipelineId: p.id, number: p.latestVersion } });
  return v.definition as unknown as PipelineDefinition;
}

describe("sluice login, plan, apply, export and runs against the API", () => {
  it("logs in with a token from SLUICE_TOKEN and keeps it in a file only its owner reads", async () => {
    const login = await sluice(["login", "--url", base], { SLUICE_TOKEN: secret });
    expect(login.code).toBe(EXIT.ok);
    expect(login.out).toMatch(/^Logged in to http:\/\/127\.0\.0\.1:\d+ as Grace \(workspace .+, owner\)/);
    const file = path.join(home, "sluice", "config.json");
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(file, "utf8"))).toEqual({ url: base, token: secret });

    const refused = await sluice(["login", "--url", base], { SLUICE_TOKEN: "slu_not-a-token-at-all" });
    expect(refused.code).toBe(EXIT.invalid);
    expect(refused.err).toMatch(/^sluice: login: this API token is not valid/);
  });

  it("applies a directory, then again with no change, then one edit as one new version", async () => {
    await mkdir(path.join(dir, "team"), { recursive: true });
    await writeFile(path.join(dir, "orders.yaml"), pipelineYaml("orders", 10));
    await writeFile(path.join(dir, "clicks.yaml"), pipelineYaml("clicks", 20));
    await writeFile(path.join(dir, "team", "payments.yml"), pipelineYaml("payments", 30));
    await writeFile(path.join(dir, "README.md"), "not a pipeline");

    const plan = await sluice(["plan", "-f", dir, "--detailed-exitcode"]);
    expect(plan.code).toBe(EXIT.changes);
    expect(plan.out).toContain(`orders (${path.join(dir, "orders.yaml")}): create`);
    expect(plan.out).toContain("Plan: 3 to create, 0 to update, 0 unchanged, 0 in conflict");
    expect(await versionCounts()).toEqual({});

    const first = await sluice(["apply", "-f", dir]);
    expect(first.code).toBe(EXIT.ok);
    expect(first.out).toContain("Applied: 3 create, 0 update, 0 unchanged, 0 in conflict");
    expect(await versionCounts()).toEqual({ orders: 1, clicks: 1, payments: 1 });

    const again = await sluice(["apply", "-f", dir, "--json"]);
    expect(again.code).toBe(EXIT.ok);
    const report = JSON.parse(again.out) as { pipelines: { name: string; action: string; toVersion: number }[] };
    expect(report.pipelines.map((p) => [p.name, p.action, p.toVersion])).toEqual([
      ["clicks", "no-change", 1],
      ["orders", "no-change", 1],
      ["payments", "no-change", 1],
    ]);
    expect(await versionCounts()).toEqual({ orders: 1, clicks: 1, payments: 1 });
    expect((await sluice(["plan", "-f", dir, "--detailed-exitcode"])).code).toBe(EXIT.ok);

    await writeFile(path.join(dir, "orders.yaml"), pipelineYaml("orders", 15));
    const plan2 = await sluice(["plan", "-f", dir]);
    expect(plan2.out).toContain(
      `orders (${path.join(dir, "orders.yaml")}): update (v1 → v2)\n    ~ node gen: config.rate`,
    );
    const edit = await sluice(["apply", "-f", dir]);
    expect(edit.code).toBe(EXIT.ok);
    expect(edit.out).toContain("Applied: 0 create, 1 update, 2 unchanged, 0 in conflict");
    expect(await versionCounts()).toEqual({ orders: 2, clicks: 1, payments: 1 });
    expect((await latest("orders")).spec.nodes[0]?.config).toMatchObject({ rate: 15 });

    // The file has no metadata.version, yet v2 is apply's own: a further edit from the same files is no conflict.
    await writeFile(path.join(dir, "orders.yaml"), pipelineYaml("orders", 16));
    expect((await sluice(["apply", "-f", dir])).code).toBe(EXIT.ok);
    expect(await versionCounts()).toEqual({ orders: 3, clicks: 1, payments: 1 });
  });

  it("refuses a stale file after an edit in the editor, with the diff, and applies it with --force", async () => {
    const p = await h.db.pipeline.findFirstOrThrow({ where: { name: "clicks" } });
    // As the editor saves: the session's user, the version it loaded as the base, the layout moved and a node changed.
    const edited = structuredClone(await latest("clicks"));
    edited.spec.nodes[1] = { ...edited.spec.nodes[1]!, config: { where: "n > 100" }, ui: { x: 300, y: 40 } };
    expect(await session.pipelines.saveVersion({ id: p.id, baseVersion: 1, definition: edited })).toEqual({
      number: 2,
    });

    await writeFile(path.join(dir, "clicks.yaml"), pipelineYaml("clicks", 25));
    const stale = await sluice(["apply", "-f", dir]);
    expect(stale.code).toBe(EXIT.conflict);
    expect(stale.err).toContain(
      `clicks (${path.join(dir, "clicks.yaml")}): conflict (server at v2): the server's pipeline is at v2, saved after the v1 this file is based on`,
    );
    expect(stale.err).toContain("    ~ node gen: config.rate\n    ~ node keep: config.where");
    expect(stale.err).toContain("Nothing was applied");
    expect(await versionCounts()).toEqual({ orders: 3, clicks: 2, payments: 1 });

    const json = await sluice(["plan", "-f", path.join(dir, "clicks.yaml"), "--json"]);
    expect(json.code).toBe(EXIT.conflict);
    expect(JSON.parse(json.out).pipelines[0]).toMatchObject({
      name: "clicks",
      action: "conflict",
      fromVersion: 2,
      diff: {
        nodes: {
          changed: [
            { id: "gen", keys: ["config.rate"] },
            { id: "keep", keys: ["config.where"] },
          ],
        },
      },
    });

    const forced = await sluice(["apply", "-f", dir, "--force"]);
    expect(forced.code).toBe(EXIT.ok);
    expect(forced.out).toContain(`clicks (${path.join(dir, "clicks.yaml")}): update (v2 → v3)`);
    expect(await versionCounts()).toEqual({ orders: 3, clicks: 3, payments: 1 });
    const saved = await latest("clicks");
    expect(saved.spec.nodes[0]?.config).toMatchObject({ rate: 25 });
    // The file says nothing of the layout, so the one made in the editor stays.
    expect(saved.spec.nodes[1]?.ui).toEqual({ x: 300, y: 40 });
    expect((await sluice(["apply", "-f", dir])).out).toContain("0 update, 3 unchanged");
  });

  it("exports a stable file: export → apply → export gives the same bytes, and the file's base is its version", async () => {
    const exported = await sluice(["export", "clicks"]);
    expect(exported.code).toBe(EXIT.ok);
    expect(exported.out).toContain("metadata:\n  name: clicks\n  version: 3\n");
    await writeFile(path.join(dir, "clicks.yaml"), exported.out);
    expect((await sluice(["apply", "-f", dir])).out).toContain("0 update, 3 unchanged");
    expect((await sluice(["export", "clicks"])).out).toBe(exported.out);

    const other = path.join(dir, "clicks.json");
    expect((await sluice(["export", "clicks", "--json", "-o", other])).code).toBe(EXIT.ok);
    expect(JSON.parse(await readFile(other, "utf8")).metadata).toEqual({ name: "clicks", version: 3 });
    await rm(other);

    // Renamed in the editor, the pipeline is still the one its file names.
    const clicks = await h.db.pipeline.findFirstOrThrow({ where: { name: "clicks" } });
    await session.pipelines.rename({ id: clicks.id, name: "Clicks (renamed)" });
    expect((await sluice(["apply", "-f", dir])).out).toContain("0 create, 0 update, 3 unchanged");
    await session.pipelines.rename({ id: clicks.id, name: "clicks" });

    expect(await sluice(["export", "nothing-here"])).toMatchObject({
      code: EXIT.invalid,
      err: 'sluice: export: no pipeline called "nothing-here" in this workspace',
    });
  });

  it("names the file and the problem, and applies nothing, when one file is invalid", async () => {
    await writeFile(
      path.join(dir, "payments-broken.yaml"),
      pipelineYaml("broken", 5).replace("transform.filter", "transform.nope"),
    );
    const bad = await sluice(["apply", "-f", dir]);
    expect(bad.code).toBe(EXIT.invalid);
    expect(bad.err).toContain(`${path.join(dir, "payments-broken.yaml")}: node keep`);
    expect(bad.err).toContain("1 of 4 pipeline files cannot be applied; nothing was changed");
    await rm(path.join(dir, "payments-broken.yaml"));
    expect(await versionCounts()).toEqual({ orders: 3, clicks: 3, payments: 1 });
  });

  it("starts, shows and stops a pipeline's run", async () => {
    expect((await sluice(["runs", "status", "payments"])).out).toBe("payments: never run");
    const started = await sluice(["runs", "start", "payments", "--json"]);
    expect(started.code).toBe(EXIT.ok);
    const { runId, version } = JSON.parse(started.out) as { runId: string; version: number };
    expect(version).toBe(1);
    const run = await h.db.run.findUniqueOrThrow({ where: { id: runId } });
    expect(run.pipelineId).toBe((await h.db.pipeline.findFirstOrThrow({ where: { name: "payments" } })).id);

    const status = await sluice(["runs", "status", "payments"]);
    expect(status.out).toMatch(new RegExp(`^payments: run ${runId} \\(v1\\) (queued|starting|running)`));
    const stopped = await sluice(["runs", "stop", "payments"]);
    expect(stopped.code).toBe(EXIT.ok);
    expect(stopped.out).toMatch(new RegExp(`^payments: run ${runId} (stopping|stopped)$`));
    expect(["STOPPING", "STOPPED"]).toContain((await h.db.run.findUniqueOrThrow({ where: { id: runId } })).status);
  });

  it("runs as a process: login reads the token from standard input, plan exits 0 when nothing would change", async () => {
    const processHome = path.join(home, "process");
    const env = { XDG_CONFIG_HOME: processHome };
    const login = await sluiceProcess(["login", "--url", base, "--json"], env, `${secret}\n`);
    expect(login).toMatchObject({ code: 0, err: "" });
    expect(JSON.parse(login.out)).toMatchObject({ url: base, user: "Grace" });
    expect(login.out).not.toContain(secret);
    const plan = await sluiceProcess(["plan", "-f", dir, "--detailed-exitcode"], env);
    expect(plan.code).toBe(EXIT.ok);
    expect(plan.out).toContain("Plan: 0 to create, 0 to update, 3 unchanged, 0 in conflict");
  }, 60_000);

  it("says how to log in when it cannot find a server, and never prints the token", async () => {
    const none = await main(
      ["plan", "-f", dir],
      { out: () => {}, err: (t) => printed.push(t) },
      { XDG_CONFIG_HOME: path.join(home, "none") },
    );
    expect(none).toBe(EXIT.unreadable);
    expect(printed.at(-1)).toMatch(/^sluice: not logged in: run sluice login --url URL/);
    const down = await sluice(["plan", "-f", dir], { SLUICE_URL: "http://127.0.0.1:9" });
    expect(down.code).toBe(EXIT.unreadable);
    expect(down.err).toMatch(/^sluice: plan: cannot reach http:\/\/127\.0\.0\.1:9/);
    expect(printed.join("\n")).not.toContain(secret);
  });
});
