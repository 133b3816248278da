// Runs a request again and again as its input changes, keeping only the newest: each new request waits `delayMs`
// (so a burst of typing makes one request, after the pause) and aborts the one still in flight, whose late answer
// or error is then dropped. Framework-free so its timing is tested on its own; the preview panel drives it.

export interface LatestRequestHandlers<T> {
  result(value: T): void;
  error(error: unknown): void;
  /** True from when a request is sent until it answers (or is superseded and nothing newer is in flight). */
  pending(pending: boolean): void;
}

export interface LatestRequest {
  /** Sends a request after `delayMs` (0: on the next tick), cancelling any waiting or in-flight one. */
  request(delayMs: number): void;
  /** Cancels what is waiting or in flight: nothing it answers is delivered. */
  cancel(): void;
}

export function createLatestRequest<T>(
  send: (signal: AbortSignal) => Promise<T>,
  on: LatestRequestHandlers<T>,
): LatestRequest {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let inFlight: AbortController | null = null;

  const cancel = () => {
    clearTimeout(timer);
    timer = undefined;
    if (inFlight) {
      inFlight.abort();
      inFlight = null;
      on.pending(false);
    }
  };

  const fire = async () => {
    timer = undefined;
    const mine = new AbortController();
    inFlight = mine;
    on.pending(true);
    try {
      const value = await send(mine.signal);
      if (inFlight === mine) on.result(value);
    } catch (err) {
      if (inFlight === mine) on.error(err);
    } finally {
      if (inFlight === mine) {
        inFlight = null;
        on.pending(false);
      }
    }
  };

  return {
    request(delayMs) {
      cancel();
      timer = setTimeout(() => void fire(), delayMs);
    },
    cancel,
  };
}
