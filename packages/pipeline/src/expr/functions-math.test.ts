import { describe, expect, it } from "vitest";
import { roundHalfAway, truncateDigits } from "./functions/math";
import { run, runtimeErrorOf } from "./test-support";

describe("math functions", () => {
  it.each([
    ["abs(-3)", 3],
    ["abs(-2.5)", 2.5],
    ["round(2.5)", 3],
    ["round(-2.5)", -3],
    ["round(2.4)", 2],
    ["round(-0.4)", 0],
    ["round(1.005, 2)", 1.01],
    ["round(2.675, 2)", 2.68],
    ["round(0.285, 2)", 0.29],
    ["round(1.45, 1)", 1.5],
    ["round(-1.005, 2)", -1.01],
    ["round(8.344999, 2)", 8.34],
    ["round(1234.5678, -2)", 1200],
    ["round(150, -2)", 200],
    ["round(149, -2)", 100],
    ["round(7, 2)", 7],
    ["round(1e20, 2)", 1e20],
    ["round(0.1 + 0.2, 10)", 0.3],
    ["trunc(2.789, 2)", 2.78],
    ["trunc(0.29, 2)", 0.29],
    ["trunc(-2.789)", -2],
    ["trunc(1234.5, -2)", 1200],
    ["floor(2.7)", 2],
    ["floor(-2.1)", -3],
    ["ceil(2.1)", 3],
    ["ceiling(-2.7)", -2],
    ["sign(-4.2)", -1],
    ["sign(0)", 0],
    ["mod(7, 3)", 1],
    ["mod(-7, 3)", -1],
    ["mod(7.5, 2)", 1.5],
    ["power(2, 10)", 1024],
    ["pow(4, 0.5)", 2],
    ["sqrt(16)", 4],
    ["exp(0)", 1],
    ["ln(1)", 0],
    ["log10(1000)", 3],
  ])("%s = %s", (source, expected) => {
    expect(run(source)).toBe(expected);
  });

  it("never returns negative zero from whole-number functions", () => {
    for (const source of ["round(-0.4)", "floor(-0.0)", "ceil(-0.5)", "sign(-0.0)", "mod(-4, 2)", "trunc(-0.5)"]) {
      expect(Object.is(run(source), 0), source).toBe(true);
    }
  });

  it("computes a map expression on record values", () => {
    expect(run("round(price * 0.908, 2)", { price: 19.99 })).toBe(18.15);
  });

  it("fails the record outside a function's domain", () => {
    expect(runtimeErrorOf("sqrt(f)", { f: -1 }).code).toBe("domain");
    expect(runtimeErrorOf("ln(f)", { f: 0 }).code).toBe("domain");
    expect(runtimeErrorOf("log10(f)", { f: -5 }).code).toBe("domain");
    expect(runtimeErrorOf("power(f, 0.5)", { f: -8 }).code).toBe("domain");
    expect(runtimeErrorOf("mod(amount, n)", { amount: 1, n: 0 }).code).toBe("division-by-zero");
  });

  it("rounds exactly like decimal arithmetic on values with few decimals", () => {
    // Every x.xx5 with up to 4 integer digits, against integer arithmetic on thousandths.
    for (let thousandths = -20_005; thousandths <= 20_005; thousandths += 10) {
      const x = thousandths / 1000;
      const sign = thousandths < 0 ? -1 : 1;
      const expected = (sign * Math.floor((Math.abs(thousandths) + 5) / 10)) / 100;
      expect(roundHalfAway(x, 2), String(x)).toBe(expected === 0 ? 0 : expected);
    }
  });

  it("leaves infinities and huge digit counts alone", () => {
    expect(roundHalfAway(Number.POSITIVE_INFINITY, 2)).toBe(Number.POSITIVE_INFINITY);
    expect(roundHalfAway(1.23456789, 20)).toBe(1.23456789);
    expect(truncateDigits(1e-7, 3)).toBe(0);
    expect(roundHalfAway(123, -400)).toBe(0);
    expect(truncateDigits(-123, -400)).toBe(0);
    expect(roundHalfAway(5e20, -21)).toBe(1e21);
  });
});
