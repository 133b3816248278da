import type { FunctionInfo } from "@sluice/pipeline/expr/compile";
import { field, type RecordSchema, t } from "@sluice/pipeline/record-schema";
import { describe, expect, it } from "vitest";
import {
  applyCompletion,
  type Completion,
  completionCandidates,
  completionContext,
  mergeFields,
  rankCompletions,
} from "./expression-completions";

const fn = (name: string, signature: string, extra: Partial<FunctionInfo> = {}): FunctionInfo => ({
  name,
  aliases: [],
  signature,
  doc: `What ${name} does.`,
  category: "string",
  aggregate: false,
  ...extra,
});

const functions: FunctionInfo[] = [
  fn("upper", "upper(text: string) → string"),
  fn("substr", "substr(text: string, start: int [, length: int]) → string", { aliases: ["substring"] }),
  fn("coalesce", "coalesce(values: any...) → the arguments' type", { category: "conditional" }),
  fn("sum", "sum(x: number) → number", { category: "aggregate", aggregate: true }),
  fn("status_of", "status_of(x: any) → string"),
];

const input: RecordSchema = {
  open: false,
  fields: [
    field("status", t.int),
    field("country", t.string, true, "ISO country code"),
    field("user", t.object([field("id", t.int), field("address", t.object([field("city", t.string)]))])),
    field("order status", t.string),
    field("is_status_ok", t.boolean),
  ],
};

const sources = { fields: input.fields, functions, aggregates: false };

/** The labels suggested with the caret at `|`. */
function suggest(text: string, options: { aggregates?: boolean } = {}): string[] {
  const caret = text.indexOf("|");
  const source = text.slice(0, caret) + text.slice(caret + 1);
  const ctx = completionContext(source, caret);
  if (!ctx) return [];
  return rankCompletions(completionCandidates(ctx, { ...sources, ...options }), ctx.query).map((c) => c.label);
}

describe("completionContext", () => {
  it("finds the name being typed and the whole name around the caret", () => {
    expect(completionContext("status = 2 AND cou", 18)).toMatchObject({ from: 15, to: 18, query: "cou", path: [] });
    expect(completionContext("upper(cotry)", 8)).toMatchObject({ from: 6, to: 11, query: "co" });
    expect(completionContext("a = ", 4)).toMatchObject({ from: 4, to: 4, query: "" });
  });

  it("completes nothing inside strings, comments and parameters", () => {
    expect(completionContext("country = 'DE", 13)).toBeNull();
    expect(completionContext("status -- a comm", 16)).toBeNull();
    expect(completionContext("status /* a comm", 16)).toBeNull();
    expect(completionContext("amount > {{min", 14)).toBeNull();
    expect(completionContext("country = 'DE' AND st", 21)).toMatchObject({ query: "st" });
    expect(completionContext("status /* c */ AND st", 21)).toMatchObject({ query: "st" });
  });

  it("knows the object before a dot, and quoted identifiers", () => {
    expect(completionContext("user.address.ci", 15)).toMatchObject({
      from: 13,
      query: "ci",
      path: ["user", "address"],
    });
    expect(completionContext('"my obj".x', 10)).toMatchObject({ path: ["my obj"], query: "x" });
    expect(completionContext("f(x).a", 6)).toBeNull();
    expect(completionContext('"order st', 9)).toMatchObject({ from: 0, to: 9, query: "order st", quoted: true });
    expect(completionContext('"order st" = 1', 9)).toMatchObject({ from: 0, to: 10, quoted: true });
  });

  it("notices a type name after CAST … AS", () => {
    expect(completionContext("CAST(amount AS i", 16)).toMatchObject({ typeName: true, query: "i" });
    expect(completionContext("CAST(amount AS ", 15)).toMatchObject({ typeName: true, query: "" });
  });
});

describe("rankCompletions", () => {
  it("puts prefix matches before substring matches, fields first", () => {
    expect(suggest("stat|")).toEqual(["status", "status_of", "order status", "is_status_ok"]);
    expect(suggest("co|")).toEqual(["country", "coalesce"]);
  });

  it("matches case-insensitively and ranks shallow fields before nested ones", () => {
    expect(suggest("U|")).toEqual(["user", "user.id", "user.address", "user.address.city", "upper", "UNKNOWN"]);
  });

  it("offers everything on an empty query: fields, then functions, then keywords", () => {
    const all = suggest("|");
    expect(all.slice(0, 4)).toEqual(["status", "country", "user", "order status"]);
    expect(all.indexOf("coalesce")).toBeGreaterThan(all.indexOf("user.address.city"));
    expect(all.indexOf("AND")).toBeGreaterThan(all.indexOf("upper"));
  });

  it("lists an object's fields after its name and a dot", () => {
    expect(suggest("user.|")).toEqual(["id", "address", "address.city"]);
    expect(suggest("user.address.c|")).toEqual(["city"]);
    expect(suggest("status.|")).toEqual([]);
  });

  it("offers aggregates only where they are allowed, and aliases by their own name", () => {
    expect(suggest("su|")).toEqual(["substr", "substring"]);
    expect(suggest("su|", { aggregates: true })).toEqual(["substr", "substring", "sum"]);
  });

  it("offers type names after AS, and only fields in a quoted identifier", () => {
    expect(suggest("CAST(status AS |")).toEqual(["STRING", "INT", "FLOAT", "BOOLEAN", "TIMESTAMP", "JSON"]);
    expect(suggest('"ord|')).toEqual(["order status"]);
  });

  it("shows a field's type and doc, a function's signature and doc", () => {
    const ctx = completionContext("c", 1)!;
    const ranked = rankCompletions(completionCandidates(ctx, sources), ctx.query);
    expect(ranked[0]).toMatchObject({ kind: "field", detail: "string, nullable", doc: "ISO country code" });
    expect(ranked[1]).toMatchObject({ kind: "function", detail: "coalesce(values: any...) → the arguments' type" });
  });

  it("needs two letters for a match inside a name, and stops at the limit", () => {
    expect(suggest("y|")).toEqual([]);
    expect(suggest("dr|")).toEqual(["user.address", "user.address.city"]);
    const ctx = completionContext("", 0)!;
    expect(rankCompletions(completionCandidates(ctx, sources), "", 5)).toHaveLength(5);
  });
});

describe("applyCompletion", () => {
  const pick = (text: string, label: string) => {
    const caret = text.indexOf("|");
    const source = text.slice(0, caret) + text.slice(caret + 1);
    const ctx = completionContext(source, caret)!;
    const c = completionCandidates(ctx, sources).find((x: Completion) => x.label === label)!;
    const { text: out, caret: at } = applyCompletion(source, ctx, c);
    return `${out.slice(0, at)}|${out.slice(at)}`;
  };

  it("replaces the whole name and puts the caret after the insertion", () => {
    expect(pick("st|at = 200", "status")).toBe("status| = 200");
    expect(pick("x AND up|", "upper")).toBe("x AND upper(|");
  });

  it("does not double a function's parenthesis", () => {
    expect(pick("upp|(country)", "upper")).toBe("upper(|country)");
  });

  it("quotes names that need it, nested paths segment by segment", () => {
    expect(pick("ord|", "order status")).toBe('"order status"|');
    expect(pick('"ord|', "order status")).toBe('"order status"|');
    expect(pick("cit|", "user.address.city")).toBe("user.address.city|");
  });
});

describe("mergeFields", () => {
  it("merges upstream schemas by field name, the first one winning", () => {
    const a: RecordSchema = { open: false, fields: [field("id", t.int), field("name", t.string)] };
    const b: RecordSchema = { open: true, fields: [field("id", t.string), field("extra", t.json)] };
    expect(mergeFields([a, b]).map((f) => `${f.name}:${f.type.kind}`)).toEqual(["id:int", "name:string", "extra:json"]);
  });
});
