import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { type CreateLoggerOptions, createLogger, LogSettingsError, REDACTED, readLogSettings } from "./logger";

function capture(options: Omit<CreateLoggerOptions, "destination">) {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  const log = createLogger({ ...options, destination });
  return { log, lines, json: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe("createLogger", () => {
  it("writes a debug line at debug level and none at info", () => {
    const atDebug = capture({ level: "debug", format: "json" });
    atDebug.log.debug("lease renewed", { epoch: 3 });
    expect(atDebug.json()).toEqual([expect.objectContaining({ level: 20, msg: "lease renewed", epoch: 3 })]);

    const atInfo = capture({ level: "info", format: "json" });
    atInfo.log.debug("lease renewed");
    atInfo.log.info("task leased");
    expect(atInfo.json().map((l) => l.msg)).toEqual(["task leased"]);
  });

  it("writes nothing when silent", () => {
    const out = capture({ level: "silent", format: "json" });
    out.log.fatal("gone");
    expect(out.lines).toEqual([]);
  });

  it("redacts passwords, tokens, secrets and authorization headers wherever they sit", () => {
    const out = capture({ level: "info", format: "json" });
    out.log.info("connection opened", {
      password: "hunter2",
      connection: { host: "db.example", password: "hunter2", nested: { token: "tok-123" } },
      headers: { authorization: "Bearer abc", accept: "*/*" },
      secret: "s3",
    });
    const text = out.lines.join("");
    for (const secret of ["hunter2", "tok-123", "Bearer abc", 's3"']) expect(text).not.toContain(secret);
    const [line] = out.json();
    expect(line).toMatchObject({
      password: REDACTED,
      connection: { host: "db.example", password: REDACTED, nested: { token: REDACTED } },
      headers: { authorization: REDACTED, accept: "*/*" },
      secret: REDACTED,
    });
  });

  it("puts a child's bindings on every line it writes", () => {
    const out = capture({ level: "info", format: "json", name: "worker" });
    const task = out.log.child({ run: "r1", stage: 0, partition: 2 }).child({ node: "keep" });
    task.warn("sink write failed; retrying", { attempt: 1 });
    expect(out.json()).toEqual([
      expect.objectContaining({ name: "worker", run: "r1", stage: 0, partition: 2, node: "keep", attempt: 1 }),
    ]);
  });

  it("writes readable lines, not JSON, in the pretty format", () => {
    const out = capture({ level: "info", format: "pretty" });
    out.log.info("worker started", { slots: 4 });
    const text = out.lines.join("");
    expect(text).toContain("worker started");
    expect(text).toContain("slots");
    expect(() => JSON.parse(text)).toThrow();
  });
});

describe("readLogSettings", () => {
  it("defaults to info, pretty on a terminal and JSON elsewhere", () => {
    expect(readLogSettings({}, { isTerminal: true })).toEqual({ level: "info", format: "pretty" });
    expect(readLogSettings({}, { isTerminal: false })).toEqual({ level: "info", format: "json" });
    expect(readLogSettings({}, { defaultLevel: "warn", isTerminal: false }).level).toBe("warn");
    expect(readLogSettings({ SLUICE_LOG_LEVEL: "DEBUG", SLUICE_LOG_FORMAT: "json" }, { isTerminal: true })).toEqual({
      level: "debug",
      format: "json",
    });
  });

  it("names the variable when a value is wrong", () => {
    expect(() => readLogSettings({ SLUICE_LOG_LEVEL: "verbose" })).toThrow(LogSettingsError);
    expect(() => readLogSettings({ SLUICE_LOG_LEVEL: "verbose" })).toThrow(/SLUICE_LOG_LEVEL.*verbose/);
    expect(() => readLogSettings({ SLUICE_LOG_FORMAT: "xml" })).toThrow(/SLUICE_LOG_FORMAT.*json or pretty/);
  });
});
