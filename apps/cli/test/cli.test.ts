import { spawnSync } from "node:child_process";
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { catalog } from "@sluice/nodes/catalog";
import type { PipelineDefinitionInput } from "@sluice/pipeline/definition";
import { formatFromName, parsePipelineText } from "@sluice/pipeline/file-format";
import { describe, expect, it } from "vitest";
import type { Output } from "../src/io";
import { main } from "../src/main";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const BIN = path.join(ROOT, "apps/cli/bin/sluice.mjs");
const EXAMPLES = path.join(ROOT, "examples");
const FIXTURES = fileURLToPath(new URL("./fixtures/", import.meta.url));
const fixture = (name: string) => path.join(FIXTURES, name);

/** Runs the command in-process, capturing what it prints. */
async function run(...argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const io: Output = { out: (t) => out.push(...t.replace(/\n$/, "").split("\n")), err: (t) => err.push(t) };
  const code = await main(argv, io);
  return { code, out, err: err.join("\n").split("\n") };
}

/** Runs the real `sluice` binary, as `npx sluice` does. */
function spawnCli(args: string[], input?: string) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, input, encoding: "utf8", timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The nodes of a pipeline file that is known to validate. */
async function nodesOf(file: string): Promise<PipelineDefinitionInput["spec"]["nodes"]> {
  const parsed = parsePipelineText(await readFile(file, "utf8"), formatFromName(file));
  if (!parsed.ok) throw new Error(`${file}: ${parsed.error.message}`);
  return (parsed.value as PipelineDefinitionInput).spec.nodes;
}

const examples = (await readdir(EXAMPLES)).filter((f) => /\.(ya?ml|json)$/.test(f)).sort();

describe("examples/", () => {
  it("has examples", () => {
    expect(examples.length).toBeGreaterThanOrEqual(3);
  });

  it.each(examples)("%s validates cleanly and has a plan", async (name) => {
    const file = path.join(EXAMPLES, name);
    const validated = await run("validate", "-f", file);
    expect(validated.err.filter(Boolean)).toEqual([]);
    expect(validated.out).toEqual([`${file}: valid`]);
    expect(validated.code).toBe(0);

    const explained = await run("explain", "-f", file);
    expect(explained.code).toBe(0);
    const text = explained.out.join("\n");
    expect(text).toMatch(/delivery: (exactly|at-least)-once/);
    for (const node of await nodesOf(file))
      expect(text, "the plan places every node").toMatch(new RegExp(`\\b${node.id}\\b`));
  });

  it("use every node type in the catalog between them", async () => {
    const used = new Set<string>();
    for (const name of examples) for (const n of await nodesOf(path.join(EXAMPLES, name))) used.add(n.type);
    const missing = catalog
      .list()
      .map((d) => d.type)
      .filter((t) => !used.has(t));
    expect(missing, "node types without an example in examples/").toEqual([]);
  });

  it("are listed in examples/README.md", async () => {
    const readme = await readFile(path.join(EXAMPLES, "README.md"), "utf8");
    for (const name of examples) expect(readme).toContain(`(${name})`);
  });
});

describe("sluice validate", () => {
  it("reports an unknown node type with a suggestion (exit 1)", async () => {
    const file = fixture("unknown-node-type.yaml");
    const r = await run("validate", "-f", file);
    expect(r.code).toBe(1);
    expect(r.err).toContain(
      `${file}: node out spec.nodes.1.type: unknown node type "sink.consol"; did you mean "sink.console"?`,
    );
  });

  it("reports a filter reading a field the input lacks, with position and did-you-mean", async () => {
    const file = fixture("missing-field.yaml");
    const r = await run("validate", "-f", file);
    expect(r.code).toBe(1);
    expect(r.err).toEqual([
      `${file}: node keep config.where (expression 1:18): Unknown field "amout"; did you mean "amount"?`,
    ]);
  });

  it("reports a cycle", async () => {
    const file = fixture("cycle.yaml");
    const r = await run("validate", "-f", file);
    expect(r.code).toBe(1);
    expect(r.err).toEqual([`${file}: node a: the pipeline has a cycle: a → b → a`]);
  });

  it("formats every issue line as FILE: node <id> <path>: <message>", async () => {
    for (const name of ["unknown-node-type.yaml", "missing-field.yaml", "cycle.yaml"]) {
      const file = fixture(name);
      const r = await run("validate", "-f", file);
      const nodeLines = [...r.err, ...r.out].filter((l) => l.startsWith(`${file}: node `));
      expect(nodeLines.length).toBeGreaterThan(0);
      for (const line of nodeLines) {
        expect(line).toMatch(/^.+: node [A-Za-z_][\w-]*( [\w.]+)?( \(expression \d+:\d+\))?: .+$/);
      }
    }
  });

  it("prints the issues as JSON with --json", async () => {
    const file = fixture("missing-field.yaml");
    const r = await run("validate", "-f", file, "--json");
    expect(r.code).toBe(1);
    const report = JSON.parse(r.out.join("\n")) as { file: string; valid: boolean; issues: unknown[] };
    expect(report.file).toBe(file);
    expect(report.valid).toBe(false);
    expect(report.issues).toContainEqual(
      expect.objectContaining({
        severity: "error",
        code: "unknown-field",
        nodeId: "keep",
        path: ["config", "where"],
        suggestion: "amount",
        position: expect.objectContaining({ line: 1, column: 18 }),
      }),
    );
  });

  it("exits 2 with line:column on malformed YAML", async () => {
    const file = fixture("malformed.yaml");
    const r = await run("validate", "-f", file);
    expect(r.code).toBe(2);
    expect(r.err[0]).toMatch(new RegExp(`^${escapeRegExp(file)}:\\d+:\\d+: not valid YAML: `));
  });

  it("exits 2 on a missing file and on a directory", async () => {
    const missing = await run("validate", "-f", fixture("no-such-file.yaml"));
    expect(missing.code).toBe(2);
    expect(missing.err).toEqual([`${fixture("no-such-file.yaml")}: no such file`]);
    const dir = await run("validate", "-f", FIXTURES);
    expect(dir.code).toBe(2);
    expect(dir.err).toEqual([`${FIXTURES}: is a directory`]);
  });

  it("exits 2 when -f is missing", async () => {
    const r = await run("validate");
    expect(r.code).toBe(2);
    expect(r.err[0]).toMatch(/-f FILE/);
  });

  it("explain refuses an invalid file with the same issue lines (exit 1)", async () => {
    const file = fixture("cycle.yaml");
    const r = await run("explain", "-f", file);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`${file}: node a: the pipeline has a cycle: a → b → a`);
  });
});

describe("sluice expr", () => {
  it("prints the type of an expression over any fields when there is no input", async () => {
    const r = await run("expr", "amount > 100");
    expect(r).toMatchObject({ code: 0, out: ["type: boolean (nullable)"] });
  });

  it("evaluates on --input, typing fields from its values", async () => {
    const r = await run("expr", "round(price * 0.908, 2)", "--input", '{"price": 19.99, "country": "DE"}');
    expect(r).toMatchObject({ code: 0, out: ["type: float", "value: 18.15"] });
    const nullable = await run("expr", "coalesce(note, 'none')", "--input", '{"note": null}');
    expect(nullable).toMatchObject({ code: 0, out: ["type: any", 'value: "none"'] });
  });

  it("checks against --schema and converts ISO timestamps in the input", async () => {
    const r = await run(
      "expr",
      "extract(hour FROM ts) + 1",
      "--schema",
      '{"ts": "timestamp", "note": "string?"}',
      "--input",
      '{"ts": "2024-05-06T07:08:09Z"}',
    );
    expect(r).toMatchObject({ code: 0, out: ["type: int", "value: 8"] });
  });

  it("binds --param values", async () => {
    const r = await run("expr", "amount >= {{min_amount}}", "--param", "min_amount=100", "--input", '{"amount": 99}');
    expect(r).toMatchObject({ code: 0, out: ["type: boolean", "value: false"] });
  });

  it("shows a syntax error at its column with a caret under it (exit 1)", async () => {
    const r = await run("expr", "amount > AND 2");
    expect(r.code).toBe(1);
    expect(r.err).toEqual([
      "error at 1:10: Expected an expression but found keyword AND",
      "  amount > AND 2",
      "           ^^^",
    ]);
  });

  it("names an unknown field with a suggestion and underlines it", async () => {
    const r = await run("expr", "price * quantiy", "--input", '{"price": 2.5, "quantity": 4}');
    expect(r.code).toBe(1);
    expect(r.err).toEqual([
      'error at 1:9: Unknown field "quantiy"; did you mean "quantity"?',
      "  price * quantiy",
      "          ^^^^^^^",
    ]);
  });

  it("reports a runtime error on the given record (exit 1)", async () => {
    const r = await run("expr", "total / items", "--input", '{"total": 10, "items": 0}');
    expect(r.code).toBe(1);
    expect(r.out).toEqual(["type: int"]);
    expect(r.err).toEqual(["error at 1:1: Division by zero", "  total / items", "  ^^^^^^^^^^^^^"]);
  });

  it("prints {type, nullable, value, errors} with --json", async () => {
    const ok = await run("expr", "upper(country)", "--input", '{"country": "de"}', "--json");
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.out.join("\n"))).toEqual({ type: "string", nullable: false, value: "DE", errors: [] });

    const bad = await run("expr", "countyr = 'DE'", "--input", '{"country": "de"}', "--json");
    expect(bad.code).toBe(1);
    const report = JSON.parse(bad.out.join("\n"));
    expect(report).toMatchObject({ type: null, nullable: null });
    expect(report).not.toHaveProperty("value");
    expect(report.errors).toEqual([
      expect.objectContaining({
        code: "unknown-field",
        suggestion: "country",
        position: expect.objectContaining({ line: 1, column: 1, length: 7 }),
      }),
    ]);
  });

  it("exits 2 on bad --input JSON, a non-object input, a missing expression or a bad --schema", async () => {
    const badJson = await run("expr", "a + 1", "--input", "{a: 1}");
    expect(badJson.code).toBe(2);
    expect(badJson.err[0]).toMatch(/^sluice: --input is not valid JSON/);
    expect((await run("expr", "a + 1", "--input", "[1, 2]")).code).toBe(2);
    expect((await run("expr")).code).toBe(2);
    const schema = await run("expr", "a + 1", "--schema", '{"a": "flaot"}');
    expect(schema.code).toBe(2);
    expect(schema.err[0]).toMatch(/unknown type "flaot"; did you mean "float"\?/);
    const mismatch = await run("expr", "a + 1", "--schema", '{"a": "int"}', "--input", '{"a": "x"}');
    expect(mismatch.code).toBe(2);
  });

  it("has --help", async () => {
    const r = await run("expr", "--help");
    expect(r.code).toBe(0);
    expect(r.out[0]).toMatch(/^usage: sluice expr /);
  });
});

describe("sluice docs --check", () => {
  it("passes on the repository as committed", async () => {
    const r = await run("docs", "--check");
    expect(r.err.filter(Boolean)).toEqual([]);
    expect(r.code).toBe(0);
  });

  it("fails naming the stale file when one was edited", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "sluice-docs-"));
    try {
      await cp(path.join(ROOT, "docs/nodes"), dir, { recursive: true });
      const edited = path.join(dir, "transform.filter.md");
      await writeFile(edited, `${await readFile(edited, "utf8")}\nEdited by hand.\n`);
      const r = await run("docs", "--check", "--dir", dir);
      expect(r.code).toBe(1);
      expect(r.err.join("\n")).toContain("transform.filter.md");
      expect(r.err.join("\n")).not.toContain("source.generator.md");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("usage", () => {
  it("exits 2 with the usage on an unknown command", async () => {
    const r = await run("frobnicate");
    expect(r.code).toBe(2);
    expect(r.err[0]).toBe('sluice: unknown command "frobnicate"');
    expect(r.err.join("\n")).toContain("usage: sluice <command>");
    expect(r.err.join("\n")).toMatch(/^ {2}expr /m);
  });

  it("prints the usage for help", async () => {
    expect(await run("help")).toMatchObject({
      code: 0,
      out: expect.arrayContaining(["usage: sluice <command> [options]"]),
    });
  });
});

describe("the sluice binary", () => {
  it("validates a file and sets the exit status", { timeout: 60_000 }, () => {
    const ok = spawnCli(["validate", "-f", "examples/successful-requests.yaml"]);
    expect(ok.stdout).toBe("examples/successful-requests.yaml: valid\n");
    expect(ok.code).toBe(0);
    const bad = spawnCli(["validate", "-f", path.relative(ROOT, fixture("missing-field.yaml"))]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/node keep config\.where \(expression 1:18\): Unknown field "amout"/);
  });

  it("reads the pipeline from standard input with -f -", { timeout: 60_000 }, async () => {
    const text = await readFile(path.join(EXAMPLES, "successful-requests.yaml"), "utf8");
    const ok = spawnCli(["validate", "-f", "-"], text);
    expect(ok).toMatchObject({ code: 0, stdout: "-: valid\n" });
    const parsed = parsePipelineText(text, "yaml");
    if (!parsed.ok) throw new Error(parsed.error.message);
    // JSON on standard input is recognised by its opening brace.
    expect(spawnCli(["validate", "-f", "-"], JSON.stringify(parsed.value))).toMatchObject({ code: 0 });
    // ...but YAML may open with a brace too.
    const spec = JSON.stringify((parsed.value as PipelineDefinitionInput).spec);
    const flow = `{ apiVersion: sluice/v1, kind: Pipeline, metadata: { name: flow }, spec: ${spec} }`;
    expect(spawnCli(["validate", "-f", "-"], flow)).toMatchObject({ code: 0, stdout: "-: valid\n" });
    const bad = spawnCli(["validate", "-f", "-", "--json"], await readFile(fixture("cycle.yaml"), "utf8"));
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout)).toMatchObject({ file: "-", valid: false });
  });

  it("exits 2 on an unknown command", { timeout: 60_000 }, () => {
    const r = spawnCli(["frobnicate"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("usage: sluice <command>");
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
