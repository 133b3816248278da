import { describe, expect, it } from "vitest";
import { EnvError, readWebEnv } from "./env";

describe("web environment: SLUICE_SECRET_KEY", () => {
  it("is optional, and read as 32 bytes from hex or base64", () => {
    expect(readWebEnv({}).secretKey).toBeUndefined();
    const hex = "ab".repeat(32);
    expect(readWebEnv({ SLUICE_SECRET_KEY: hex }).secretKey).toEqual({
      current: new Uint8Array(32).fill(0xab),
      previous: [],
    });
    expect(readWebEnv({ SLUICE_SECRET_KEY: Buffer.alloc(32, 7).toString("base64") }).secretKey?.current).toEqual(
      new Uint8Array(32).fill(7),
    );
  });

  it("takes the keys secrets were sealed with before from SLUICE_SECRET_KEY_PREVIOUS", () => {
    const env = readWebEnv({ SLUICE_SECRET_KEY: "ab".repeat(32), SLUICE_SECRET_KEY_PREVIOUS: `${"cd".repeat(32)}` });
    expect(env.secretKey?.previous).toEqual([new Uint8Array(32).fill(0xcd)]);
    expect(() =>
      readWebEnv({ SLUICE_SECRET_KEY: "ab".repeat(32), SLUICE_SECRET_KEY_PREVIOUS: "ab".repeat(32) }),
    ).toThrow(/SLUICE_SECRET_KEY_PREVIOUS is the same key as SLUICE_SECRET_KEY/);
    expect(() => readWebEnv({ SLUICE_SECRET_KEY_PREVIOUS: "cd".repeat(32) })).toThrow(
      /invalid environment for the Sluice web app: SLUICE_SECRET_KEY_PREVIOUS is set but SLUICE_SECRET_KEY is not/,
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

describe("web environment: request limits", () => {
  it("defaults to 2 MiB API bodies and the documented rate limits, and reads rules given", () => {
    const env = readWebEnv({});
    expect(env.apiMaxBody).toBe(2 * 1024 * 1024);
    expect(env.trustedProxies).toBe(0);
    expect(env.rateLimits).toEqual({
      signInPerEmail: { points: 10, durationSeconds: 900 },
      signInPerAddress: { points: 30, durationSeconds: 900 },
      signUpPerAddress: { points: 20, durationSeconds: 3600 },
      ingestPerToken: { points: 3000, durationSeconds: 60 },
      apiPerToken: { points: 600, durationSeconds: 60 },
    });
    expect(readWebEnv({ SLUICE_RATE_SIGNIN_EMAIL: "5/1h" }).rateLimits.signInPerEmail).toEqual({
      points: 5,
      durationSeconds: 3600,
    });
    expect(readWebEnv({ SLUICE_RATE_API_TOKEN: "50/10s" }).rateLimits.apiPerToken).toEqual({
      points: 50,
      durationSeconds: 10,
    });
  });

  it("names the variable and the expected form when a value is wrong", () => {
    expect(() => readWebEnv({ SLUICE_RATE_INGEST: "lots" })).toThrow(/SLUICE_RATE_INGEST: write it as calls\/duration/);
    expect(() => readWebEnv({ SLUICE_API_MAX_BODY: "10" })).toThrow(/SLUICE_API_MAX_BODY: at least 65536 bytes/);
    expect(() => readWebEnv({ SLUICE_TRUSTED_PROXIES: "-1" })).toThrow(/SLUICE_TRUSTED_PROXIES: 0 or more/);
  });
});

describe("web environment: SLUICE_CONNECTIONS_ALLOW", () => {
  it("is optional, and kept as given when every entry is an address range with an optional port", () => {
    expect(readWebEnv({}).connectionsAllow).toBeUndefined();
    const allow = "127.0.0.1/32:5432, 10.0.0.0/8,[::1]/128:6379";
    expect(readWebEnv({ SLUICE_CONNECTIONS_ALLOW: allow }).connectionsAllow).toBe(allow);
  });

  it("stops the start naming the variable and the bad entry", () => {
    expect(() => readWebEnv({ SLUICE_CONNECTIONS_ALLOW: "127.0.0.0/8,db.internal:5432" })).toThrow(EnvError);
    expect(() => readWebEnv({ SLUICE_CONNECTIONS_ALLOW: "127.0.0.0/8,10.0.0.0/40" })).toThrow(
      'SLUICE_CONNECTIONS_ALLOW: "10.0.0.0/40" is not a valid entry (the prefix length must be 0 to 32)',
    );
  });
});

describe("web environment: SLUICE_RUN_RETENTION", () => {
  it("keeps a finished run's state 7 days unless told otherwise, and reads durations", () => {
    expect(readWebEnv({}).runRetentionMs).toBe(7 * 86_400_000);
    expect(readWebEnv({ SLUICE_RUN_RETENTION: "12h" }).runRetentionMs).toBe(12 * 3_600_000);
  });

  it("names the variable and the expected form when the value is not a duration", () => {
    expect(() => readWebEnv({ SLUICE_RUN_RETENTION: "forever" })).toThrow(
      /SLUICE_RUN_RETENTION: "forever" is not a duration from 1s to 3650d; write e\.g\. 7d or 12h/,
    );
    expect(() => readWebEnv({ SLUICE_RUN_RETENTION: "10ms" })).toThrow(/SLUICE_RUN_RETENTION/);
  });
});

describe("web environment: SLUICE_HISTORY_RETENTION", () => {
  it("keeps 10 s buckets a day, 1 min buckets 30 days and 1 h buckets a year unless told otherwise", () => {
    expect(readWebEnv({}).historyRetention).toEqual({ 10: 86_400_000, 60: 30 * 86_400_000, 3600: 365 * 86_400_000 });
    expect(readWebEnv({ SLUICE_HISTORY_RETENTION: "10s:6h, 1m:7d, 1h:90d" }).historyRetention).toEqual({
      10: 6 * 3_600_000,
      60: 7 * 86_400_000,
      3600: 90 * 86_400_000,
    });
  });

  it("names the variable and what is wrong with the value", () => {
    expect(() => readWebEnv({ SLUICE_HISTORY_RETENTION: "10s:1d,1m:30d" })).toThrow(
      /SLUICE_HISTORY_RETENTION: the 1h resolution is missing; give all three, e\.g\. 10s:24h,1m:30d,1h:365d/,
    );
    expect(() => readWebEnv({ SLUICE_HISTORY_RETENTION: "5s:1d,1m:30d,1h:365d" })).toThrow(
      /SLUICE_HISTORY_RETENTION: "5s:1d" is not <resolution>:<duration>/,
    );
    expect(() => readWebEnv({ SLUICE_HISTORY_RETENTION: "10s:forever,1m:30d,1h:365d" })).toThrow(
      /SLUICE_HISTORY_RETENTION: "forever" for 10s is not a duration/,
    );
    // A 1 min bucket is recomputed from its 10 s buckets until it completes: they must outlive it.
    expect(() => readWebEnv({ SLUICE_HISTORY_RETENTION: "10s:30s,1m:30d,1h:365d" })).toThrow(
      /SLUICE_HISTORY_RETENTION: 10s history must be kept at least 1m/,
    );
  });
});

describe("web environment: SLUICE_METRICS_TOKEN", () => {
  it("leaves the metrics endpoint off when unset, and takes a long enough token", () => {
    expect(readWebEnv({}).metricsToken).toBeUndefined();
    const token = "m".repeat(40);
    expect(readWebEnv({ SLUICE_METRICS_TOKEN: token }).metricsToken).toBe(token);
  });

  it("refuses a short token without repeating it", () => {
    const attempt = () => readWebEnv({ SLUICE_METRICS_TOKEN: "hunter2-short" });
    expect(attempt).toThrow(/SLUICE_METRICS_TOKEN: at least 32 characters without spaces/);
    expect(attempt).not.toThrow(/hunter2/);
  });
});
