import net from "node:net";
import tls from "node:tls";
import type { Destination } from "../../destination-policy";
import { parseRedisUrl, type RedisConnectionConfig } from "./redis-connection.def";
import { type CommandArg, encodeCommand } from "./resp-command";
import { RespReader, replyError } from "./resp-reader";

// A bare RESP2 connection to Redis for the streams' hot paths: commands are written as they come, replies handed
// back whole and undecoded (a Buffer each, in order), so the caller decodes only what it needs. It speaks what the
// connection config asks for — TLS (verified or not), AUTH with or without an ACL user, SELECT — and names itself
// like the ioredis clients (CLIENT SETNAME). No reconnecting: once closed it stays closed and the owner opens
// another. Server-only.

const CONNECT_TIMEOUT_MS = 5000;

interface Pending {
  resolve(reply: Buffer): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout | undefined;
}

export class RespConnection {
  private readonly pending: Pending[] = [];
  private readonly reader = new RespReader((reply) => this.answer(reply));
  private failure: Error | undefined;

  private constructor(private readonly socket: net.Socket) {
    socket.on("data", (chunk: Buffer) => {
      try {
        this.reader.push(chunk);
      } catch (err) {
        this.fail(err as Error);
      }
    });
    socket.on("error", (err) => this.fail(err));
    socket.on("close", () => this.fail(new Error("Connection is closed")));
  }

  /**
   * Connects, authenticates and selects the database. Rejects with the network error or the server's own
   * (WRONGPASS, NOAUTH, ERR DB index is out of range) — the texts diagnoseRedis reads. The socket goes to the
   * address redisDestination checked; TLS names the host.
   */
  static async open(c: RedisConnectionConfig, name: string, to: Destination): Promise<RespConnection> {
    const e = parseRedisUrl(c.url);
    if (typeof e === "string") throw new Error(`redis connection URL: ${e}`);
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      const useTls = e.tls || c.tls;
      const s = useTls
        ? tls.connect({
            host: to.address,
            port: to.port,
            ...(to.servername !== undefined ? { servername: to.servername } : {}),
            rejectUnauthorized: c.tlsVerify,
          })
        : net.connect({ host: to.address, port: to.port });
      const timer = setTimeout(() => {
        s.destroy();
        reject(Object.assign(new Error("connect ETIMEDOUT"), { code: "ETIMEDOUT" }));
      }, CONNECT_TIMEOUT_MS);
      s.once(useTls ? "secureConnect" : "connect", () => {
        clearTimeout(timer);
        s.off("error", reject);
        resolve(s);
      });
      s.once("error", (err) => {
        clearTimeout(timer);
        s.destroy();
        reject(err);
      });
    });
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 30_000);
    const conn = new RespConnection(socket);
    try {
      const hello: Promise<Buffer>[] = [];
      if (c.password !== undefined) {
        hello.push(conn.send(c.username !== undefined ? ["AUTH", c.username, c.password] : ["AUTH", c.password]));
      }
      if (e.db !== 0) hello.push(conn.send(["SELECT", e.db]));
      // Only a name in CLIENT LIST: an ACL user without +client may refuse it.
      const named = conn.send(["CLIENT", "SETNAME", `sluice:${name}`.replace(/\s/g, "_")]).catch(() => undefined);
      for (const reply of await Promise.all(hello)) {
        const err = replyError(reply);
        if (err) throw err;
      }
      await named;
    } catch (err) {
      conn.close();
      throw err;
    }
    return conn;
  }

  get closed(): boolean {
    return this.failure !== undefined;
  }

  /**
   * Sends a command; resolves with its whole reply (an error reply too: see replyError), rejects when the
   * connection is lost first or no reply came within `timeoutMs` (then the connection is closed).
   */
  send(args: readonly CommandArg[], timeoutMs?: number): Promise<Buffer> {
    return this.sendEncoded(encodeCommand(args), timeoutMs);
  }

  /** send() for a command already encoded (encodeCommand), whole or in pieces. */
  sendEncoded(command: Buffer | readonly Buffer[], timeoutMs?: number): Promise<Buffer> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<Buffer>((resolve, reject) => {
      const timer =
        timeoutMs === undefined
          ? undefined
          : setTimeout(() => this.fail(new Error(`no reply from Redis in ${timeoutMs} ms`)), timeoutMs);
      this.pending.push({ resolve, reject, timer });
      if (Buffer.isBuffer(command)) this.socket.write(command);
      else {
        this.socket.cork();
        for (const piece of command) this.socket.write(piece);
        this.socket.uncork();
      }
    });
  }

  close(): void {
    this.fail(new Error("Connection is closed"));
  }

  private answer(reply: Buffer): void {
    const p = this.pending.shift();
    if (p === undefined) {
      this.fail(new Error("Redis sent a reply to no command"));
      return;
    }
    if (p.timer !== undefined) clearTimeout(p.timer);
    p.resolve(reply);
  }

  private fail(err: Error): void {
    if (this.failure === undefined) {
      this.failure = err;
      this.socket.destroy();
    }
    for (const p of this.pending.splice(0)) {
      if (p.timer !== undefined) clearTimeout(p.timer);
      p.reject(this.failure);
    }
  }
}
