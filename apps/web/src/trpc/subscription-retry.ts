// How the browser's tRPC client keeps subscriptions (live run figures, snapshots, logs) open across a dropped
// connection or a restart of the web server: the SSE link's EventSource reconnects by itself while it can; when it
// gives up (the server refused the connection while it restarted), retryLink subscribes again after a backoff,
// sending the id of the last event received, so a stream like runs.figures resumes where it was.

/** A subscription is opened again unless the server refused it for the client's own reasons (4xx: signed out, …). */
export function retrySubscription({ error }: { error: { data?: { httpStatus?: number } | null } }): boolean {
  const status = error.data?.httpStatus;
  return !(status !== undefined && status >= 400 && status < 500);
}

/**
 * The wait before attempt `attempt` + 1 (the first retry follows attempt 1): 1 s doubling to 30 s, ±20 % so that
 * many pages do not come back in the same instant. retryLink counts attempts over the subscription's life, so a page
 * open for long after many restarts waits the longest interval.
 */
export function reconnectDelayMs(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(30_000, 1000 * 2 ** Math.max(0, attempt - 1));
  return Math.round(base * (0.8 + 0.4 * random()));
}
