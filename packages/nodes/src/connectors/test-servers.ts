import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";

// Servers of a test's own for the connector tests that need what the shared servers do not have (a password, a
// server to take away): a redis-server with --requirepass, a nats-server with a user and password, a mosquitto with
// a password file. Each runs on a free loopback port from a temporary folder and is stopped by its PID.
// Also: unique names for the objects a test creates on the shared servers. Test-only.

/** A name no other test (or earlier run) uses: `prefix-<12 hex>`. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(6).toString("hex")}`;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** Resolves once something accepts TCP connections on the port. */
async function listening(port: number, what: string, output: () => string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`${what} did not start on port ${port}:\n${output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export class PrivateServer {
  private readonly output: string[] = [];
  private readonly exited: Promise<void>;

  private constructor(
    readonly name: string,
    readonly port: number,
    private readonly child: ChildProcess,
    private readonly dir: string,
  ) {
    const collect = (chunk: Buffer) => this.output.push(chunk.toString());
    child.stdout?.on("data", collect);
    child.stderr?.on("data", collect);
    this.exited = new Promise((resolve) => child.once("exit", () => resolve()));
  }

  static async spawn(
    name: string,
    command: string,
    args: (port: number, dir: string) => string[],
    prepare?: (port: number, dir: string) => void,
  ): Promise<PrivateServer> {
    const port = await freePort();
    const dir = mkdtempSync(path.join(tmpdir(), `sluice-${name}-`));
    prepare?.(port, dir);
    const child = spawn(command, args(port, dir), { stdio: ["ignore", "pipe", "pipe"] });
    const server = new PrivateServer(name, port, child, dir);
    try {
      await listening(port, `${name} (${command})`, () => server.output.join(""));
    } catch (err) {
      await server.stop();
      throw err;
    }
    return server;
  }

  /** Stops the server by its PID and removes its folder. */
  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill("SIGKILL");
      await this.exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A redis-server that requires `password` (no persistence). */
export function privateRedis(password: string): Promise<PrivateServer> {
  return PrivateServer.spawn("redis", "redis-server", (port, dir) => [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--save",
    "",
    "--appendonly",
    "no",
    "--requirepass",
    password,
    "--dir",
    dir,
  ]);
}

/** A nats-server with JetStream that requires `user`/`password`. */
export function privateNats(user: string, password: string): Promise<PrivateServer> {
  return PrivateServer.spawn("nats", "nats-server", (port, dir) => [
    "-a",
    "127.0.0.1",
    "-p",
    String(port),
    "-js",
    "-sd",
    dir,
    "--user",
    user,
    "--pass",
    password,
  ]);
}

/** A mosquitto that lets in only `user`/`password` (MQTT 3.1.1 and 5). */
export function privateMosquitto(user: string, password: string): Promise<PrivateServer> {
  return PrivateServer.spawn(
    "mosquitto",
    "mosquitto",
    (_port, dir) => ["-c", path.join(dir, "mosquitto.conf")],
    (port, dir) => {
      const passwords = path.join(dir, "passwords");
      writeFileSync(passwords, "");
      execFileSync("mosquitto_passwd", ["-b", passwords, user, password]);
      writeFileSync(
        path.join(dir, "mosquitto.conf"),
        [
          `listener ${port} 127.0.0.1`,
          "allow_anonymous false",
          `password_file ${passwords}`,
          "persistence false",
          // Started as root, mosquitto would switch to its own user, who cannot read this private folder.
          ...(process.getuid?.() === 0 ? ["user root"] : []),
          "log_dest stderr",
          "",
        ].join("\n"),
      );
    },
  );
}
