import http from "node:http";
import type { AddressInfo } from "node:net";

// A real HTTP receiver for the HTTP sink's tests (node:http on a free loopback port): it keeps what it accepts,
// drops a request whose Idempotency-Key it has already accepted (as receivers that honour the header do), and
// answers what the test asks for — 503 or 429 for a while, 401, or nothing at all.

export interface Received {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export type Behaviour = (
  req: Received,
  count: number,
) => { status: number; headers?: Record<string, string>; body?: string } | "hang" | undefined;

export class TestReceiver {
  readonly accepted: Received[] = [];
  readonly duplicates: Received[] = [];
  attempts = 0;
  behaviour: Behaviour = () => undefined;
  private readonly keys = new Set<string>();
  private readonly server: http.Server;
  port = 0;

  private constructor() {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const r: Received = {
          method: req.method ?? "",
          url: req.url ?? "",
          headers: req.headers,
          body: Buffer.concat(chunks).toString("utf8"),
        };
        this.attempts++;
        const answer = this.behaviour(r, this.attempts);
        if (answer === "hang") return; // never answers
        if (answer) {
          res.writeHead(answer.status, { "content-type": "application/json", ...answer.headers });
          res.end(answer.body ?? "");
          return;
        }
        const key = req.headers["idempotency-key"];
        if (typeof key === "string" && this.keys.has(key)) this.duplicates.push(r);
        else {
          if (typeof key === "string") this.keys.add(key);
          this.accepted.push(r);
        }
        res.writeHead(200, { "content-type": "application/json" });
        res.end('{"ok":true}');
      });
    });
  }

  static async start(): Promise<TestReceiver> {
    const receiver = new TestReceiver();
    await new Promise<void>((resolve) => receiver.server.listen(0, "127.0.0.1", resolve));
    receiver.port = (receiver.server.address() as AddressInfo).port;
    return receiver;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Every record accepted, parsed from the JSON array or JSON Lines bodies. */
  records(): Record<string, unknown>[] {
    return this.accepted.flatMap((r) =>
      r.headers["content-type"] === "application/x-ndjson"
        ? r.body
            .split("\n")
            .filter(Boolean)
            .map((l) => JSON.parse(l) as Record<string, unknown>)
        : (JSON.parse(r.body) as Record<string, unknown>[]),
    );
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
