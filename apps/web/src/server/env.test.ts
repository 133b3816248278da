import { describe, expect, it } from "vitest";
import { EnvError, readWebEnv } from "./env";

describe("web environment: SLUICE_SECRET_KEY", () => {
  it("is optional, and read as 32 bytes from hex or base64", () => {
    expect(readWebEnv({}).secretKey).toBeUndefined();
    const hex = "ab".repeat(32);
    expect(readWebEnv({ SLUICE_SECRET_KEY: hex }).secretKey).toEqual(new Uint8Array(32).fill(0xab));
    expect(readWebEnv({ SLUICE_SECRET_KEY: Buffer.alloc(32, 7).toString("base64") }).secretKey).toEqual(
      new Uint8Array(32).fill(7),
    );
  });

  it("stops the start with an error naming the variable, not its value, when it is malformed", () => {
    const bad = "not-a-key-but-a-password";
    expect(() => readWebEnv({ SLUICE_SECRET_KEY: bad })).toThrow(EnvError);
    try {
      readWebEnv({ SLUICE_SECRET_KEY: bad });
    } catch (err) {
      expect((err as Error).message).toContain("SLUICE_SECRET_KEY must be 32 bytes");
      expect((err as Error).message).not.toContain(bad);
    }
  });
});
