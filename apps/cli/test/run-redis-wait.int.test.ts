import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import path from "node:path";
import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";

const ROOT = path.resolve(import.meta.dirname, "../../..");
const BIN = path.join(ROOT, "apps/cli/bin/sluice.mjs");

/** A loopback port nothing listens on: bound once by the OS, then let go. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe("sluice run while Redis is down", () => {
  it("says in one line, now and then, which Redis it waits for, without stack traces or the URL's password", async () => {
    const port = await closedPort();
    const child = spawn(process.execPath, [BIN, "run", "-f", "examples/successful-requests.yaml"], {
      cwd: ROOT,
      env: { ...process.env, REDIS_URL: `redis://sluice:hunter2@127.0.0.1:${port}`, SLUICE_LOG_LEVEL: "debug" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    try {
      // Long enough for the notice to come twice (every 5 s), counted from the first one.
      const deadline = Date.now() + 30_000;
      while (!stderr.includes("waiting for Redis") && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 100));
      const firstAt = Date.now();
      while (stderr.split("waiting for Redis").length < 3 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 100));
      const waitedMs = Date.now() - firstAt;
      child.kill("SIGINT");
      expect(await exited).toBe(130);

      const lines = stderr.trim().split("\n");
      expect(lines.length).toBeGreaterThanOrEqual(2);
      for (const line of lines) expect(line).toBe(`sluice run: waiting for Redis at 127.0.0.1:${port} …`);
      expect(waitedMs).toBeGreaterThanOrEqual(4000);
      expect(stderr).not.toMatch(/^\s+at /m);
      expect(stderr).not.toContain("ECONNREFUSED");
      expect(stderr).not.toContain("hunter2");
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  });
});

/** `sluice run -f examples/successful-requests.yaml` with REDIS_URL; resolves with its exit code and stderr. */
async function runWith(redisUrl: string, timeoutMs = 20_000): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [BIN, "run", "-f", "examples/successful-requests.yaml"], {
    cwd: ROOT,
    env: { ...process.env, REDIS_URL: redisUrl },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  const code = await new Promise<number | null>((resolve) => child.on("exit", (c) => resolve(c)));
  clearTimeout(timer);
  return { code, stderr };
}

/** A redis-server of this test's own that wants a password. */
async function passwordRedis(password: string): Promise<{ port: number; stop: () => void }> {
  const port = await closedPort();
  const child: ChildProcess = spawn(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--requirepass", password],
    { stdio: "ignore" },
  );
  const deadline = Date.now() + 10_000;
  for (;;) {
    const probe = new Redis({ port, password, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on("error", () => {});
    try {
      await probe.connect();
      if ((await probe.ping()) === "PONG") break;
    } catch {
      if (Date.now() > deadline) throw new Error(`redis-server on ${port} did not start`);
      await new Promise((r) => setTimeout(r, 50));
    } finally {
      probe.disconnect();
    }
  }
  return { port, stop: () => child.kill("SIGKILL") };
}

describe("sluice run with a Redis it cannot use", () => {
  it("says in one line that REDIS_URL is not a URL, and exits 2", async () => {
    const { code, stderr } = await runWith("foo");
    expect(stderr).toBe("sluice run: REDIS_URL is not a URL: write redis://host:6379 (or rediss:// for TLS)\n");
    expect(code).toBe(2);
  });

  it("says once that Redis refused the password, without waiting or showing it, and exits 2", async () => {
    const redis = await passwordRedis("right-one");
    try {
      for (const url of [`redis://:hunter2@127.0.0.1:${redis.port}`, `redis://127.0.0.1:${redis.port}`]) {
        const { code, stderr } = await runWith(url);
        const lines = stderr.trim().split("\n");
        expect(lines).toHaveLength(1);
        expect(lines[0]).toMatch(
          new RegExp(
            `^sluice run: Redis at 127\\.0\\.0\\.1:${redis.port} refused this client: (WRONGPASS|NOAUTH) .*; check the user and password in REDIS_URL$`,
          ),
        );
        expect(stderr).not.toContain("waiting for Redis");
        expect(stderr).not.toContain("hunter2");
        expect(code).toBe(2);
      }
    } finally {
      redis.stop();
    }
  });
});
