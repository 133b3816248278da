import pg from "pg";
import { formatLsn, laterLsn } from "./lsn";
import { quoteIdent, quoteLiteral } from "./sql-names";

// A logical replication connection (the streaming replication protocol): START_REPLICATION on a slot with the
// pgoutput plugin, WAL data messages buffered until the reader takes them, and standby status updates that tell
// the server how far it may discard WAL. The flush position reported is only ever what the caller confirmed —
// what Sluice has durably committed — never merely what was received, so after a crash the server sends again
// everything after the last commit. Server-only.

export interface WalMessage {
  /** Where the message's WAL data starts. */
  walStart: bigint;
  data: Buffer;
}

/** Stop reading from the socket while this much is buffered and not yet taken; resume below half. */
const HIGH_WATER_BYTES = 16 * 1024 * 1024;
const HIGH_WATER_MESSAGES = 50_000;
/** A status update at least this often, so the server (wal_sender_timeout) knows the client is alive. */
const STATUS_EVERY_MS = 10_000;
const PG_EPOCH_MS = 946_684_800_000n;

export class ReplicationStream {
  private readonly queue: WalMessage[] = [];
  private head = 0;
  private bufferedBytes = 0;
  private paused = false;
  private received = 0n;
  private flushed = 0n;
  private timer: NodeJS.Timeout | undefined;
  private failed: Error | undefined;
  /** Called on each keepalive with the server's WAL end; `confirm` may be called from it. */
  onKeepalive: ((walEnd: bigint) => void) | undefined;

  private constructor(private readonly client: pg.Client) {}

  /** Connects and starts streaming from `start` (the server starts no earlier than the slot's confirmed position). */
  static async start(
    config: pg.ClientConfig,
    slot: string,
    publication: string,
    start: bigint,
  ): Promise<ReplicationStream> {
    const client = new pg.Client({ ...config, replication: "database" } as pg.ClientConfig);
    const stream = new ReplicationStream(client);
    client.on("error", (err) => stream.fail(err));
    client.on("end", () => stream.fail(new Error("the replication connection ended")));
    await client.connect();
    // node-postgres does not type its protocol connection; these are the parts replication uses.
    const { connection } = client as unknown as {
      connection: {
        on(event: "copyData", listener: (msg: { chunk: Buffer }) => void): void;
        once(event: "replicationStart", listener: () => void): void;
        sendCopyFromChunk(chunk: Buffer): void;
        stream: { pause(): void; resume(): void };
      };
    };
    connection.on("copyData", ({ chunk }) => stream.receive(chunk));
    const started = new Promise<void>((resolve, reject) => {
      connection.once("replicationStart", resolve);
      client
        .query(
          `START_REPLICATION SLOT ${quoteIdent(slot)} LOGICAL ${formatLsn(start)} (proto_version '1', publication_names ${quoteLiteral(publication)})`,
        )
        .then(
          () => stream.fail(new Error("the server ended the replication stream")),
          (err: Error) => {
            stream.fail(err);
            reject(err);
          },
        );
    });
    try {
      await started;
    } catch (err) {
      await client.end().catch(() => {});
      throw err;
    }
    stream.connection = connection;
    stream.flushed = start;
    stream.timer = setInterval(() => stream.sendStatus(false), STATUS_EVERY_MS);
    stream.timer.unref();
    return stream;
  }

  private connection: { sendCopyFromChunk(chunk: Buffer): void; stream: { pause(): void; resume(): void } } | undefined;

  /** Why the stream stopped, if it did. */
  get failure(): Error | undefined {
    return this.failed;
  }

  private fail(err: Error): void {
    this.failed ??= err;
  }

  /** Messages received and not yet taken. */
  get pending(): number {
    return this.queue.length - this.head;
  }

  private receive(chunk: Buffer): void {
    const kind = chunk[0];
    if (kind === 0x77) {
      // XLogData: w, start, end, clock, data
      const walStart = chunk.readBigUInt64BE(1);
      const walEnd = chunk.readBigUInt64BE(9);
      if (walEnd > this.received) this.received = walEnd;
      // Copied: node-postgres reuses its read buffer, and the message is decoded later, when the reader takes it.
      const data = Buffer.from(chunk.subarray(25));
      this.queue.push({ walStart, data });
      this.bufferedBytes += data.length;
      if (!this.paused && (this.bufferedBytes > HIGH_WATER_BYTES || this.pending > HIGH_WATER_MESSAGES)) {
        this.paused = true;
        this.connection?.stream.pause();
      }
    } else if (kind === 0x6b) {
      // Primary keepalive: k, end, clock, reply requested
      const walEnd = chunk.readBigUInt64BE(1);
      if (walEnd > this.received) this.received = walEnd;
      this.onKeepalive?.(walEnd);
      if (chunk[17] === 1) this.sendStatus(false);
    }
  }

  /** The next message, or undefined when none is buffered. */
  next(): WalMessage | undefined {
    if (this.head >= this.queue.length) return undefined;
    const message = this.queue[this.head++]!;
    this.bufferedBytes -= message.data.length;
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
    if (this.paused && this.bufferedBytes < HIGH_WATER_BYTES / 2 && this.pending < HIGH_WATER_MESSAGES / 2) {
      this.paused = false;
      this.connection?.stream.resume();
    }
    return message;
  }

  /** Everything before `lsn` is durably processed: the server may discard it. Never moves backwards. */
  confirm(lsn: bigint): void {
    if (lsn <= this.flushed) return;
    this.flushed = lsn;
    this.sendStatus(false);
  }

  get confirmed(): bigint {
    return this.flushed;
  }

  private sendStatus(replyRequested: boolean): void {
    if (!this.connection || this.failed) return;
    const message = Buffer.alloc(34);
    message[0] = 0x72; // r
    message.writeBigUInt64BE(laterLsn(this.received, this.flushed), 1); // written
    message.writeBigUInt64BE(this.flushed, 9); // flushed: the slot's confirmed position
    message.writeBigUInt64BE(this.flushed, 17); // applied
    message.writeBigInt64BE((BigInt(Date.now()) - PG_EPOCH_MS) * 1000n, 25);
    message[33] = replyRequested ? 1 : 0;
    this.connection.sendCopyFromChunk(message);
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    this.fail(new Error("closed"));
    this.queue.length = 0;
    this.head = 0;
    await this.client.end().catch(() => {});
  }
}
