import { spawn } from "node:child_process";
import { createServer } from "node:net";
import path from "node:path";
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
