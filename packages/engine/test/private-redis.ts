import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { Redis } from "ioredis";

// A redis-server of a test's own, on a free loopback port, that the test may kill and restart: the shared one
// stays untouched for the tests running beside it.

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export class PrivateRedis {
  private child: ChildProcess | undefined;
  private readonly dir = mkdtempSync(path.join(tmpdir(), "sluice-redis-"));

  private constructor(
    readonly port: number,
    private readonly args: string[],
  ) {}

  /** Starts a server; `aof` makes every write durable before it is acknowledged (appendfsync always). */
  static async start(options: { aof?: boolean } = {}): Promise<PrivateRedis> {
    const port = await freePort();
    const persistence = options.aof ? ["--appendonly", "yes", "--appendfsync", "always"] : ["--appendonly", "no"];
    const redis = new PrivateRedis(port, ["--port", String(port), "--bind", "127.0.0.1", "--save", "", ...persistence]);
    await redis.launch();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  private async launch(): Promise<void> {
    this.child = spawn("redis-server", [...this.args, "--dir", this.dir], { stdio: "ignore" });
    const deadline = Date.now() + 10_000;
    for (;;) {
      const probe = new Redis(this.port, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      probe.on("error", () => {});
      try {
        await probe.connect();
        // After a restart with AOF, "LOADING" answers until the file is replayed.
        if ((await probe.ping()) === "PONG") return;
      } catch {
        // not up yet
      } finally {
        probe.disconnect();
      }
      if (Date.now() > deadline) throw new Error(`private redis-server on ${this.port} did not start`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Kills the server as a crash would (SIGKILL): no shutdown, no final save. */
  async crash(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGKILL");
    await exited;
  }

  /** Starts it again on the same port and folder: with AOF it comes back with every acknowledged write. */
  async restart(): Promise<void> {
    await this.launch();
  }

  async stop(): Promise<void> {
    await this.crash();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
