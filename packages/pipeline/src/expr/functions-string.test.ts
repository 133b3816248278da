import { describe, expect, it } from "vitest";
import { errorOf, run, runtimeErrorOf } from "./test-support";

describe("string functions", () => {
  it.each([
    ["lower('AbC')", "abc"],
    ["upper('straße')", "STRASSE"],
    ["initcap('hello wORLD-foo')", "Hello World-Foo"],
    ["trim('  a b  ')", "a b"],
    ["ltrim('  a  ')", "a  "],
    ["rtrim('  a  ')", "  a"],
    ["trim('xxaxx', 'x')", "a"],
    ["ltrim('xyxa', 'xy')", "a"],
    ["rtrim('a😀😀', '😀')", "a"],
    ["substr('hello', 2)", "ello"],
    ["substr('hello', 2, 3)", "ell"],
    ["substring('hello', 0, 2)", "h"],
    ["substr('hello', -1, 3)", "h"],
    ["substr('hello', 10)", ""],
    ["substr('hello', 2, 0)", ""],
    ["substr('a😀b', 2, 1)", "😀"],
    ["substring('hello' FROM 2 FOR 2)", "el"],
    ["left('hello', 2)", "he"],
    ["left('hello', -2)", "hel"],
    ["right('hello', 2)", "lo"],
    ["right('hello', -2)", "llo"],
    ["concat('a', 1, TRUE, NULL, 2.5)", "a1true2.5"],
    ["concat(NULL)", ""],
    ["length('hello')", 5],
    ["length('😀😀')", 2],
    ["char_length('')", 0],
    ["replace('a-b-c', '-', '+')", "a+b+c"],
    ["replace('abc', '', 'x')", "abc"],
    ["replace('a$b', '$', '$$')", "a$$b"],
    ["reverse('a😀b')", "b😀a"],
    ["repeat('ab', 3)", "ababab"],
    ["repeat('ab', 0)", ""],
    ["lpad('7', 3, '0')", "007"],
    ["lpad('hi', 5, 'xy')", "xyxhi"],
    ["lpad('hello', 2)", "he"],
    ["lpad('a', 3)", "  a"],
    ["rpad('a', 3, '.')", "a.."],
    ["rpad('a', -1)", ""],
    ["position('lo', 'hello')", 4],
    ["position('z' IN 'hello')", 0],
    ["position('b' IN '😀b')", 2],
    ["starts_with('hello', 'he')", true],
    ["ends_with('hello', 'he')", false],
    ["split('a,b,,c', ',')", ["a", "b", "", "c"]],
    ["split('ab', '')", ["a", "b"]],
    ["split_part('a,b,c', ',', 2)", "b"],
    ["split_part('a,b,c', ',', -1)", "c"],
    ["split_part('a,b,c', ',', 5)", ""],
    ["regexp_like('Order-123', '\\d+')", true],
    ["regexp_like('abc', 'B', 'i')", true],
    ["regexp_like('abc', 'B')", false],
    ["regexp_match('Order-123-x', '\\d+')", "123"],
    ["regexp_match('key=value', '(\\w+)=(\\w+)', 2)", "value"],
    ["regexp_match('abc', '\\d')", null],
    ["regexp_extract('a1b2', '[a-z](\\d)', 1)", "1"],
    ["regexp_replace('a1b22', '\\d+', '#')", "a#b#"],
    ["regexp_replace('john smith', '(\\w+) (\\w+)', '$2, $1')", "smith, john"],
    ["regexp_replace('x', 'x', '$$ and $&')", "$ and x"],
    ["regexp_replace('2024-01-02', '(?<y>\\d+)-(?<m>\\d+)-(?<d>\\d+)', '$<d>.$<m>.$<y>')", "02.01.2024"],
    ["regexp_replace('ABC', 'b', '-', 'i')", "A-C"],
    // Replacement references read as JavaScript reads them.
    ["regexp_replace('ab', '(a)', '$10')", "a0b"],
    ["regexp_replace('ab', '(a)', '$0 $2 $<n> $')", "$0 $2 $<n> $b"],
    ["regexp_replace('ab', '(?P<n>a)(x)?', '[$<n>$2$<m>]')", "[a$<m>]b"],
    ["regexp_replace('abc', '', '-')", "-a-b-c-"],
    ["regexp_replace('😀x😀', '.', '<$&>')", "<😀><x><😀>"],
    ["regexp_match('a😀b', 'a(.)b', 1)", "😀"],
    ["regexp_match('abc', '(b)', 5)", null],
    ["regexp_like('x', '\\x{78}')", true],
  ])("%s", (source, expected) => {
    expect(run(source)).toEqual(expected);
  });

  it("uses patterns and arguments from data", () => {
    expect(run("regexp_match(country, s)", { country: "DE-12", s: "\\d+" })).toBe("12");
    expect(run("lpad(country, n, s)", { country: "7", n: 3, s: "0" })).toBe("007");
  });

  it("fails the record on invalid arguments", () => {
    expect(runtimeErrorOf("substr(country, 1, n)", { country: "abc", n: -1 }).code).toBe("invalid-argument");
    expect(runtimeErrorOf("split_part(country, ',', n)", { country: "a", n: 0 }).code).toBe("invalid-argument");
    expect(runtimeErrorOf("regexp_like(country, s)", { country: "a", s: "(" }).message).toContain(
      "Invalid regular expression",
    );
  });

  it("rejects invalid constant patterns and flags at compile time", () => {
    const e = errorOf("regexp_like(country, '(')");
    expect(e.code).toBe("type");
    expect(e.message).toContain("Invalid regular expression");
    expect(e.position).toMatchObject({ offset: 21, length: 3 });
    expect(errorOf("regexp_like(country, 'a', 'gx')").message).toContain("Unknown regular expression flags 'gx'");
  });
});
