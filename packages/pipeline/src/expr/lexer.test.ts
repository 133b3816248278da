import { describe, expect, it } from "vitest";
import { tokenize } from "./lexer";

function tokens(source: string) {
  const r = tokenize(source);
  if (!r.ok) throw new Error(r.error.message);
  return r.tokens.map((t) => [t.kind, t.value]);
}

describe("tokenize", () => {
  it("reads numbers in every notation", () => {
    expect(tokens("12 1.5 .5 1. 1e3 2.5E-4 7e+2")).toEqual([
      ["number", "12"],
      ["number", "1.5"],
      ["number", ".5"],
      ["number", "1."],
      ["number", "1e3"],
      ["number", "2.5E-4"],
      ["number", "7e+2"],
      ["eof", ""],
    ]);
  });

  it("decodes strings with doubled quotes and keeps everything else verbatim", () => {
    expect(tokens("'it''s' '' 'a\\nb' '/*x*/ -- y'")).toEqual([
      ["string", "it's"],
      ["string", ""],
      ["string", "a\\nb"],
      ["string", "/*x*/ -- y"],
      ["eof", ""],
    ]);
  });

  it("decodes quoted identifiers, including spaces and doubled quotes", () => {
    expect(tokens('"order id" "say ""hi"""')).toEqual([
      ["quoted-identifier", "order id"],
      ["quoted-identifier", 'say "hi"'],
      ["eof", ""],
    ]);
  });

  it("reads parameters with optional inner spaces", () => {
    expect(tokens("{{limit}} {{ topic-name }}")).toEqual([
      ["parameter", "limit"],
      ["parameter", "topic-name"],
      ["eof", ""],
    ]);
  });

  it("prefers two-character operators", () => {
    expect(
      tokens("a<>b<=c>=d!=e||f::g")
        .filter(([k]) => k === "operator")
        .map(([, v]) => v),
    ).toEqual(["<>", "<=", ">=", "!=", "||", "::"]);
  });

  it("skips line and block comments", () => {
    expect(tokens("a -- comment\n+ /* block\n comment */ b")).toEqual([
      ["identifier", "a"],
      ["operator", "+"],
      ["identifier", "b"],
      ["eof", ""],
    ]);
  });

  it("accepts Unicode letters in identifiers", () => {
    expect(tokens("größe_1 + prix")[0]).toEqual(["identifier", "größe_1"]);
  });

  it("records offsets", () => {
    const r = tokenize("ab + 'x'");
    expect(r.ok && r.tokens.map((t) => [t.start, t.end])).toEqual([
      [0, 2],
      [3, 4],
      [5, 8],
      [8, 8],
    ]);
  });

  it.each([
    ["'abc", "Unterminated string", 0],
    ['"abc', "Unterminated quoted identifier", 0],
    ["a /* b", "Unterminated comment", 2],
    ["a # b", 'Unexpected character "#"', 2],
    ["{{ }}", "Expected a parameter name", 3],
    ["{{x", "Unterminated parameter", 0],
    ["1e+", "Malformed number", 0],
    ["12abc", 'Malformed number "12abc"', 0],
    ['""', "Empty quoted identifier", 0],
  ])("reports %s", (source, message, offset) => {
    const r = tokenize(source);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.message).toContain(message);
      expect(r.error.at.start).toBe(offset);
    }
  });
});
