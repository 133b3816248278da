import { describe, expect, it } from "vitest";
import { deadLetterReason } from "./dead-letter-reason";

describe("deadLetterReason", () => {
  it("takes the record's values out, so records failing the same way share one reason", () => {
    const a = deadLetterReason("cannot cast 'abc' to double (at 1:1 in `CAST(price AS double)`)");
    const b = deadLetterReason("cannot cast 'x 12' to double (at 1:1 in `CAST(price AS double)`)");
    expect(a).toBe(b);
    expect(a).toBe("cannot cast '…' to double (at #:# in `CAST(price AS double)`)");
  });

  it("replaces numbers, double-quoted text and ids, and keeps words with digits in them", () => {
    expect(deadLetterReason('row 17 of "orders-2024": value -3.5e2 too small for int32')).toBe(
      'row # of "…": value # too small for int32',
    );
    expect(deadLetterReason("user 3f2b8c1e-0000-4a4a-9b9b-123456789abc not found")).toBe("user … not found");
    expect(deadLetterReason("hash 0123456789abcdef0123 clash")).toBe("hash … clash");
  });

  it("tells different failures apart and keeps a long message to a readable length", () => {
    expect(deadLetterReason("division by zero")).not.toBe(deadLetterReason("cannot cast 'a' to int"));
    expect(deadLetterReason("x".repeat(1000)).length).toBeLessThanOrEqual(301);
  });
});
