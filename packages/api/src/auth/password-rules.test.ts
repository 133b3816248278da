import { describe, expect, it } from "vitest";
import { PASSWORD_MAX, PASSWORD_MIN, passwordProblem } from "./password-rules";

describe("password rules", () => {
  it("refuses blank, short, overlong, common and near-uniform passwords", () => {
    expect(passwordProblem(" ".repeat(12))).toBe("write a password, not only spaces");
    expect(passwordProblem("")).toBe("write a password, not only spaces");
    expect(passwordProblem("a".repeat(PASSWORD_MIN - 1))).toBe(`use at least ${PASSWORD_MIN} characters`);
    expect(passwordProblem("ab1".repeat(100))).toBe(`use at most ${PASSWORD_MAX} characters`);
    expect(passwordProblem("password1234")).toMatch(/among the most common ones/);
    expect(passwordProblem("Password1234")).toMatch(/among the most common ones/);
    expect(passwordProblem("123456789012")).toMatch(/among the most common ones/);
    expect(passwordProblem("aaaa aaaa aaaa")).toMatch(/more than two different characters/);
  });

  it("accepts twelve characters or more of anything else, spaces and all", () => {
    expect(passwordProblem("tide pool 42")).toBeNull();
    expect(passwordProblem("  leading and trailing  ")).toBeNull();
    expect(passwordProblem("ünïcödé pässwörd")).toBeNull();
    expect(passwordProblem("x1!".repeat(85))).toBeNull(); // 255 characters
  });
});
