import { describe, expect, it } from "vitest";
import { REDACTED, secretScrubber } from "./secret-scrub";

describe("secretScrubber", () => {
  const secret = "p@ss/word+&=";
  const scrub = secretScrubber({ password: secret, nested: { token: "tok3n" }, port: 5432, tls: true });

  it("cuts a secret out in the forms drivers and servers write it in", () => {
    const b64 = Buffer.from(secret).toString("base64");
    for (const form of [
      secret,
      encodeURIComponent(secret),
      b64,
      b64.replace(/=+$/, ""),
      Buffer.from(secret).toString("base64url"),
      Buffer.from(secret).toString("hex"),
      JSON.stringify({ secret }),
    ]) {
      expect(scrub.text(`before ${form} after`)).not.toContain(secret);
      expect(scrub.text(`before ${form} after`)).toContain(REDACTED);
    }
    expect(scrub.text("postgres://u:p%40ss%2Fword%2B%26%3D@host")).toBe(`postgres://u:${REDACTED}@host`);
    expect(scrub.text("token tok3n")).toBe(`token ${REDACTED}`);
    // Numbers are secrets' text too; booleans are not (they would blank every "true").
    expect(scrub.text("port 5432 is true")).toBe(`port ${REDACTED} is true`);
  });

  it("scrubs every string and key of a value, and leaves the rest alone", () => {
    const at = new Date(0);
    expect(scrub.value({ [`audit_${secret}`]: [{ note: `pw=${secret}`, n: 1, at }], ok: null })).toEqual({
      [`audit_${REDACTED}`]: [{ note: `pw=${REDACTED}`, n: 1, at }],
      ok: null,
    });
  });

  it("cuts a longer secret out whole when a shorter one is part of it", () => {
    const s = secretScrubber(["abc", "abcdef"]);
    expect(s.text("xabcdefx abcx")).toBe(`x${REDACTED}x ${REDACTED}x`);
    expect(secretScrubber({}).text("nothing to hide")).toBe("nothing to hide");
    expect(secretScrubber({ empty: "" }).text("nothing to hide")).toBe("nothing to hide");
  });
});
