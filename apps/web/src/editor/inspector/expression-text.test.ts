import { describe, expect, it } from "vitest";
import { fieldReference, highlight, wordAt } from "./expression-text";

const show = (source: string, errors: { start: number; end: number }[] = []) =>
  highlight(source, errors)
    .filter((s) => s.text.trim() !== "")
    .map((s) => `${s.kind}${s.error ? "!" : ""}:${s.text.trim()}`);

describe("highlight", () => {
  it("gives each token its kind and keeps every character", () => {
    const source = "upper(country) = 'DE' AND amount > 1.5 -- big\n OR {{min}} IS NULL";
    expect(show(source)).toEqual([
      "function:upper",
      "operator:(",
      "field:country",
      "operator:)",
      "operator:=",
      "string:'DE'",
      "keyword:AND",
      "field:amount",
      "operator:>",
      "number:1.5",
      "comment:--",
      "comment:big",
      "keyword:OR",
      "parameter:{{min}}",
      "keyword:IS",
      "keyword:NULL",
    ]);
    expect(
      highlight(source)
        .map((s) => s.text)
        .join(""),
    ).toBe(source);
  });

  it("flags the characters under an error span, at least one", () => {
    expect(show("status = = 200", [{ start: 9, end: 10 }])).toEqual([
      "field:status",
      "operator:=",
      "operator!:=",
      "number:200",
    ]);
    expect(show("a + b", [{ start: 2, end: 2 }])).toEqual(["field:a", "operator!:+", "field:b"]);
  });

  it("keeps text the lexer cannot read as plain text", () => {
    const segments = highlight("name = 'unterminated");
    expect(segments.map((s) => s.text).join("")).toBe("name = 'unterminated");
    expect(segments.at(-1)).toMatchObject({ kind: "plain" });
  });
});

describe("wordAt and fieldReference", () => {
  it("finds the name before the caret, not numbers or string contents", () => {
    expect(wordAt("a AND coun", 10)).toEqual({ word: "coun", start: 6 });
    expect(wordAt("x > 12", 6)).toEqual({ word: "", start: 6 });
    expect(wordAt("x = 'ab", 7)).toEqual({ word: "", start: 7 });
  });

  it("quotes names that are not plain identifiers or are keywords", () => {
    expect(fieldReference("user_id")).toBe("user_id");
    expect(fieldReference("order status")).toBe('"order status"');
    expect(fieldReference("case")).toBe('"case"');
    expect(fieldReference('say "hi"')).toBe('"say ""hi"""');
  });
});
