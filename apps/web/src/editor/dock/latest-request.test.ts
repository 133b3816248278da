import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createLatestRequest } from "./latest-request";

/** A request the test answers by hand, with the signal it was sent with. */
function deferredSend() {
  const sent: { signal: AbortSignal; resolve(v: string): void; reject(e: unknown): void }[] = [];
  const send = (signal: AbortSignal) =>
    new Promise<string>((resolve, reject) => {
      sent.push({ signal, resolve, reject });
    });
  return { sent, send };
}

function recorder() {
  const events: string[] = [];
  return {
    events,
    on: {
      result: (v: string) => events.push(`result:${v}`),
      error: (e: unknown) => events.push(`error:${(e as Error).message}`),
      pending: (p: boolean) => events.push(`pending:${p}`),
    },
  };
}

describe("createLatestRequest", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("sends one request after a burst of changes pauses", async () => {
    const { sent, send } = deferredSend();
    const { events, on } = recorder();
    const latest = createLatestRequest(send, on);
    latest.request(600);
    await vi.advanceTimersByTimeAsync(400);
    latest.request(600);
    await vi.advanceTimersByTimeAsync(400);
    latest.request(600);
    await vi.advanceTimersByTimeAsync(599);
    expect(sent).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(sent).toHaveLength(1);
    sent[0]!.resolve("a");
    await vi.advanceTimersByTimeAsync(0);
    expect(events).toEqual(["pending:true", "result:a", "pending:false"]);
  });

  it("aborts the request in flight when a newer one is sent and drops its late answer", async () => {
    const { sent, send } = deferredSend();
    const { events, on } = recorder();
    const latest = createLatestRequest(send, on);
    latest.request(0);
    await vi.advanceTimersByTimeAsync(0);
    latest.request(0);
    expect(sent[0]!.signal.aborted).toBe(true);
    await vi.advanceTimersByTimeAsync(0);
    expect(sent).toHaveLength(2);
    sent[1]!.resolve("new");
    sent[0]!.resolve("old");
    await vi.advanceTimersByTimeAsync(0);
    expect(events.filter((e) => e.startsWith("result"))).toEqual(["result:new"]);
    expect(events.at(-1)).toBe("pending:false");
  });

  it("drops the error of a superseded request and reports the current one's", async () => {
    const { sent, send } = deferredSend();
    const { events, on } = recorder();
    const latest = createLatestRequest(send, on);
    latest.request(0);
    await vi.advanceTimersByTimeAsync(0);
    latest.request(0);
    await vi.advanceTimersByTimeAsync(0);
    sent[0]!.reject(new Error("aborted"));
    sent[1]!.reject(new Error("the worker is busy"));
    await vi.advanceTimersByTimeAsync(0);
    expect(events.filter((e) => e.startsWith("error"))).toEqual(["error:the worker is busy"]);
  });

  it("after cancel, nothing waiting is sent and nothing in flight is delivered", async () => {
    const { sent, send } = deferredSend();
    const { events, on } = recorder();
    const latest = createLatestRequest(send, on);
    latest.request(0);
    await vi.advanceTimersByTimeAsync(0);
    latest.request(600);
    latest.cancel();
    await vi.advanceTimersByTimeAsync(1000);
    expect(sent).toHaveLength(1);
    sent[0]!.resolve("late");
    await vi.advanceTimersByTimeAsync(0);
    expect(events).toEqual(["pending:true", "pending:false"]);
  });
});
