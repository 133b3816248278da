// Where a push-based consumer (NATS, MQTT, RabbitMQ) puts the messages its client receives until the engine reads
// them. It needs no bound of its own: every one of those brokers stops sending once a set number of messages is
// unacknowledged (max_ack_pending, Receive Maximum, prefetch), and nothing is acknowledged before it is committed.
// A broken connection is recorded and thrown at the next read, so the task re-opens the source from its last
// commit. Server-only.

export class Inbox<T> {
  private items: T[] = [];
  private head = 0;
  private wake: (() => void) | undefined;
  private failure: Error | undefined;

  get size(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
    this.wake?.();
  }

  /** The connection broke: the next take() throws `error`. The first failure wins. */
  fail(error: Error): void {
    this.failure ??= error;
    this.wake?.();
  }

  get failed(): Error | undefined {
    return this.failure;
  }

  /** Up to `max` items, oldest first (throws the recorded failure, if any). */
  take(max: number): T[] {
    if (this.failure) throw this.failure;
    const n = Math.min(max, this.size);
    const out = this.items.slice(this.head, this.head + n);
    this.head += n;
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head > 65_536 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return out;
  }

  /** Resolves when something arrived, the connection broke, `ms` passed or `signal` aborted. */
  wait(ms: number, signal: AbortSignal): Promise<void> {
    if (this.size > 0 || this.failure || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener("abort", done, { once: true });
      this.wake = done;
    });
  }
}
