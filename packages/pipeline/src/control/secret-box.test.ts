import { describe, expect, it } from "vitest";
import { openJson, parseSecretKey, SecretKeyError, sealJson } from "./secret-box";

const hex = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

describe("secret box", () => {
  it("round-trips JSON, with a fresh IV every time", async () => {
    const key = parseSecretKey(hex);
    const a = await sealJson(key, { password: "s3cret" }, "conn:1");
    const b = await sealJson(key, { password: "s3cret" }, "conn:1");
    expect(a).not.toBe(b);
    expect(a).not.toContain("s3cret");
    expect(await openJson(key, a, "conn:1")).toEqual({ password: "s3cret" });
  });

  it("refuses another key, another context and a tampered box", async () => {
    const key = parseSecretKey(hex);
    const box = await sealJson(key, { x: 1 }, "conn:1");
    await expect(openJson(parseSecretKey(hex.replace("00", "01")), box, "conn:1")).rejects.toBeInstanceOf(
      SecretKeyError,
    );
    await expect(openJson(key, box, "conn:2")).rejects.toBeInstanceOf(SecretKeyError);
    const [v, iv, data] = box.split(".");
    const flipped = `${v}.${iv}.${data!.slice(0, -4)}${data!.slice(-4) === "AAAA" ? "BBBB" : "AAAA"}`;
    await expect(openJson(key, flipped, "conn:1")).rejects.toBeInstanceOf(SecretKeyError);
  });

  it("reads keys as hex or base64 and explains a bad one", () => {
    expect(parseSecretKey(hex)).toHaveLength(32);
    expect(parseSecretKey(btoa(String.fromCharCode(...Array(32).fill(7))))).toHaveLength(32);
    expect(() => parseSecretKey(undefined)).toThrow("SLUICE_SECRET_KEY is not set");
    expect(() => parseSecretKey("short")).toThrow("64 hex characters");
  });
});
