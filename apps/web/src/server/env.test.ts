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

describe("web environment: webhook ingest limits", () => {
  it("defaults to 8 MiB bodies and a million waiting records, and reads numbers given", () => {
    expect(readWebEnv({})).toMatchObject({ ingestMaxBody: 8 * 1024 * 1024, ingestMaxBacklog: 1_000_000 });
    expect(readWebEnv({ SLUICE_INGEST_MAX_BODY: "65536", SLUICE_INGEST_MAX_BACKLOG: "5000" })).toMatchObject({
      ingestMaxBody: 65536,
      ingestMaxBacklog: 5000,
    });
  });

  it("refuses a value that is not a sensible number, naming the variable", () => {
    expect(() => readWebEnv({ SLUICE_INGEST_MAX_BODY: "8MB" })).toThrow(/SLUICE_INGEST_MAX_BODY: a number of bytes/);
    expect(() => readWebEnv({ SLUICE_INGEST_MAX_BODY: "12" })).toThrow(/SLUICE_INGEST_MAX_BODY: at least 1024 bytes/);
    expect(() => readWebEnv({ SLUICE_INGEST_MAX_BACKLOG: "0" })).toThrow(
      /SLUICE_INGEST_MAX_BACKLOG: at least 1 record/,
    );
  });
});
