import { describe, expect, it } from "vitest";
import { copyLine } from "./copy-text";
import { formatLsn, parseLsn } from "./lsn";

describe("COPY text rows", () => {
  it("escapes backslash, tab, newline and carriage return, and writes NULL as \\N", () => {
    expect(copyLine(["a\tb", "line\nbreak\r", "back\\slash", null, ""])).toBe(
      "a\\tb\tline\\nbreak\\r\tback\\\\slash\t\\N\t\n",
    );
  });
});

describe("LSNs", () => {
  it("round-trips and orders", () => {
    expect(formatLsn(parseLsn("16/B374D848"))).toBe("16/B374D848");
    expect(parseLsn("0/10") < parseLsn("1/0")).toBe(true);
    expect(() => parseLsn("16-B3")).toThrow(/not a WAL position/);
  });
});
