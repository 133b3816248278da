import { describe, expect, it } from "vitest";
import {
  keyringIds,
  openJson,
  parseSecretKey,
  parseSecretKeyring,
  resealJson,
  SecretKeyError,
  sealedKeyId,
  sealJson,
  secretKeyId,
  UnknownSecretKeyError,
} from "./secret-box";

const hex = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
const hexB = "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100";
const hexC = "0f".repeat(32);

/** What this module wrote before sealed values carried a key id: "v1.<iv>.<ciphertext+tag>". */
async function sealV1(key: Uint8Array, value: unknown, context: string): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const aesKey = await crypto.subtle.importKey("raw", key as Uint8Array<ArrayBuffer>, "AES-GCM", false, ["encrypt"]);
  const sealed = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: new TextEncoder().encode(context) },
    aesKey,
    new TextEncoder().encode(JSON.stringify(value)),
  );
  return `v1.${Buffer.from(iv).toString("base64")}.${Buffer.from(sealed).toString("base64")}`;
}

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
    const [v, id, iv, data] = box.split(".");
    const flipped = `${v}.${id}.${iv}.${data!.slice(0, -4)}${data!.slice(-4) === "AAAA" ? "BBBB" : "AAAA"}`;
    await expect(openJson(key, flipped, "conn:1")).rejects.toThrow("the value was altered, or sealed for another use");
    await expect(openJson(key, "v9.abc.def", "conn:1")).rejects.toThrow("not a sealed value this version can read");
  });

  it("reads keys as hex or base64 and explains a bad one", () => {
    expect(parseSecretKey(hex)).toHaveLength(32);
    expect(parseSecretKey(btoa(String.fromCharCode(...Array(32).fill(7))))).toHaveLength(32);
    expect(() => parseSecretKey(undefined)).toThrow("SLUICE_SECRET_KEY is not set");
    expect(() => parseSecretKey("short")).toThrow("64 hex characters");
    expect(() => parseSecretKey(hex.slice(2))).toThrow(
      "SLUICE_SECRET_KEY must be 32 bytes written as 64 hex characters (openssl rand -hex 32); it has 62 hex characters",
    );
  });
});

describe("the sealed envelope", () => {
  it("is v2.<key id>.<iv>.<ciphertext+tag>, the key id 8 hex characters derived from the key alone", async () => {
    const key = parseSecretKey(hex);
    const box = await sealJson(key, { token: "t" }, "conn:1");
    const [version, id, iv, data] = box.split(".");
    expect(version).toBe("v2");
    expect(id).toMatch(/^[0-9a-f]{8}$/);
    expect(id).toBe(await secretKeyId(parseSecretKey(hex)));
    expect(id).not.toBe(await secretKeyId(parseSecretKey(hexB)));
    expect(Buffer.from(iv!, "base64")).toHaveLength(12);
    // The JSON text plus GCM's 16-byte tag.
    expect(Buffer.from(data!, "base64")).toHaveLength(JSON.stringify({ token: "t" }).length + 16);
    expect(sealedKeyId(box)).toBe(id);
  });

  it("opens values written before key ids (v1), with whichever key of the ring sealed them", async () => {
    const a = parseSecretKey(hex);
    const b = parseSecretKey(hexB);
    const old = await sealV1(a, { password: "from-before" }, "conn:1");
    expect(sealedKeyId(old)).toBeUndefined();
    expect(await openJson(a, old, "conn:1")).toEqual({ password: "from-before" });
    expect(await openJson({ current: b, previous: [a] }, old, "conn:1")).toEqual({ password: "from-before" });
    await expect(openJson(b, old, "conn:1")).rejects.toThrow(
      "cannot decrypt: none of the keys given (SLUICE_SECRET_KEY, SLUICE_SECRET_KEY_PREVIOUS) opens it; it was sealed with another key, or altered",
    );
    await expect(openJson({ current: b, previous: [a] }, old, "conn:2")).rejects.toBeInstanceOf(SecretKeyError);
  });

  it("seals under the current key only, and opens under any key of the ring by its id", async () => {
    const a = parseSecretKey(hex);
    const b = parseSecretKey(hexB);
    const underA = await sealJson(a, { n: 1 }, "ctx");
    const ring = { current: b, previous: [parseSecretKey(hexC), a] };
    const underB = await sealJson(ring, { n: 2 }, "ctx");
    expect(sealedKeyId(underB)).toBe(await secretKeyId(b));
    expect(await openJson(ring, underA, "ctx")).toEqual({ n: 1 });
    expect(await openJson(ring, underB, "ctx")).toEqual({ n: 2 });
    expect(await keyringIds(ring)).toEqual({
      current: await secretKeyId(b),
      previous: [await secretKeyId(parseSecretKey(hexC)), await secretKeyId(a)],
    });
  });

  it("names the missing key when a value was sealed under a key the ring lacks", async () => {
    const a = parseSecretKey(hex);
    const underA = await sealJson(a, { password: "p" }, "ctx");
    const err = await openJson(parseSecretKey(hexB), underA, "ctx").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnknownSecretKeyError);
    expect((err as UnknownSecretKeyError).keyId).toBe(await secretKeyId(a));
    expect((err as Error).message).toBe(
      `it was sealed with key ${await secretKeyId(a)}, which is neither SLUICE_SECRET_KEY nor one of SLUICE_SECRET_KEY_PREVIOUS`,
    );
  });

  it("reseals under the current key, leaving alone what already is", async () => {
    const a = parseSecretKey(hex);
    const b = parseSecretKey(hexB);
    const ring = { current: b, previous: [a] };
    const underA = await sealJson(a, { password: "p" }, "ctx");
    const again = await resealJson(ring, underA, "ctx");
    expect(sealedKeyId(again!)).toBe(await secretKeyId(b));
    expect(await openJson(b, again!, "ctx")).toEqual({ password: "p" });
    expect(await resealJson(ring, again!, "ctx")).toBeUndefined();
    const v1 = await sealV1(a, { password: "p" }, "ctx");
    expect(await openJson(b, (await resealJson(ring, v1, "ctx"))!, "ctx")).toEqual({ password: "p" });
  });
});

describe("SLUICE_SECRET_KEY_PREVIOUS", () => {
  it("is a comma-separated list of keys besides the current one; nothing set is no ring", () => {
    expect(parseSecretKeyring(undefined, undefined)).toBeUndefined();
    expect(parseSecretKeyring(undefined, " , ")).toBeUndefined();
    expect(parseSecretKeyring(hex, undefined)).toEqual({ current: parseSecretKey(hex), previous: [] });
    const b64 = Buffer.alloc(32, 7).toString("base64");
    expect(parseSecretKeyring(hex, ` ${hexB}, ${b64},`)).toEqual({
      current: parseSecretKey(hex),
      previous: [parseSecretKey(hexB), new Uint8Array(32).fill(7)],
    });
  });

  it("refuses a bad list with a message naming the variable and the entry, never the value", () => {
    const refuse = (current: string | undefined, previous: string | undefined, message: string) => {
      const err = (() => {
        try {
          parseSecretKeyring(current, previous);
        } catch (e) {
          return e as Error;
        }
      })();
      expect(err).toBeInstanceOf(SecretKeyError);
      expect(err!.message).toBe(message);
      for (const value of [hex, hexB, hexC]) expect(err!.message).not.toContain(value.slice(0, 16));
    };
    refuse(
      undefined,
      hexB,
      "SLUICE_SECRET_KEY_PREVIOUS is set but SLUICE_SECRET_KEY is not: new secrets are sealed with SLUICE_SECRET_KEY, so set it to the key to use from now on",
    );
    refuse(
      hex,
      hexB.slice(0, 60),
      "SLUICE_SECRET_KEY_PREVIOUS must be 32 bytes written as 64 hex characters (openssl rand -hex 32); it has 60 hex characters",
    );
    refuse(
      hex,
      `${hexB},not-a-key`,
      "SLUICE_SECRET_KEY_PREVIOUS (key 2 of 2) must be 32 bytes written as 64 hex characters (openssl rand -hex 32)",
    );
    refuse(
      hex,
      `${hexB},${hex.toUpperCase()}`,
      "SLUICE_SECRET_KEY_PREVIOUS (key 2 of 2) is the same key as SLUICE_SECRET_KEY: list only the other keys secrets may be sealed with",
    );
    refuse(
      hex,
      `${hexB},${hexC},${hexB}`,
      "SLUICE_SECRET_KEY_PREVIOUS (key 3 of 3) repeats key 1 of the list: give each key once",
    );
    refuse("zz", hexB, "SLUICE_SECRET_KEY must be 32 bytes written as 64 hex characters (openssl rand -hex 32)");
  });
});
