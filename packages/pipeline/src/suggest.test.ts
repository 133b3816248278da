import { describe, expect, it } from "vitest";
import { closestName, editDistance } from "./suggest";

describe("editDistance", () => {
  it.each([
    ["", "", 0],
    ["abc", "", 3],
    ["amount", "amount", 0],
    ["amout", "amount", 1],
    ["amoutn", "amount", 1],
    ["amXunt", "amount", 1],
    ["amountt", "amount", 1],
    ["ca", "abc", 3],
    ["kitten", "sitting", 3],
  ])("%j → %j is %d", (a, b, d) => {
    expect(editDistance(a, b)).toBe(d);
    expect(editDistance(b, a)).toBe(d);
  });
});

describe("closestName", () => {
  const fields = ["amount", "price", "country", "user_id", "created_at"];

  it("suggests a plausible typo's target", () => {
    expect(closestName("amuont", fields)).toBe("amount");
    expect(closestName("userid", fields)).toBe("user_id");
    expect(closestName("PRICE", fields)).toBe("price");
    expect(closestName("createdat", fields)).toBe("created_at");
  });

  it("stays quiet when nothing is close, or the name is very long", () => {
    expect(closestName("zip", fields)).toBeUndefined();
    expect(closestName("x", ["y"])).toBe("y");
    expect(closestName("a".repeat(500), ["a".repeat(499)])).toBeUndefined();
    expect(closestName("amount", [])).toBeUndefined();
  });
});
