import { type IncomingMessage, request } from "node:http";

// The load of `npm run bench -- metrics` (metrics-live.ts starts it as a process of its own, so its CPU is not the
// web server's): N clients subscribe to one run's live figures over SSE exactly as the browser's
// httpSubscriptionLink does (GET /api/trpc/runs.figures?input=…, Accept: text/event-stream, the session cookie), each
// on its own TCP connection. Once all are connected it prints `{"window":"start"}`, listens for --seconds, prints
// `{"window":"end"}` and then one JSON line with what each client received in the window.
//
// Arguments: <baseUrl> <runId> <clients> <seconds>; the cookie comes in SLUICE_BENCH_COOKIE.

interface Received {
  /** Unix second of the figures (the event's tracked id) → ms from that second's end to receipt. */
  delays: Map<number, number>;
  connected: boolean;
  error: string | undefined;
}

const [baseUrl, runId, clientsText, secondsText] = process.argv.slice(2);
const cookie = process.env.SLUICE_BENCH_COOKIE ?? "";
const clients = Number(clientsText);
const seconds = Number(secondsText);
if (!baseUrl || !runId || !(clients > 0) || !(seconds > 0)) {
  console.error("usage: metrics-sse-clients.ts <baseUrl> <runId> <clients> <seconds> (cookie in SLUICE_BENCH_COOKIE)");
  process.exit(2);
}

// What httpSubscriptionLink puts in the URL: the input as superjson serialises it.
const url = new URL(`/api/trpc/runs.figures?input=${encodeURIComponent(JSON.stringify({ json: { runId } }))}`, baseUrl);
const print = (o: unknown) => process.stdout.write(`${JSON.stringify(o)}\n`);

let windowOpen = false;
const all: Received[] = [];
const responses: IncomingMessage[] = [];

function subscribe(): Received {
  const got: Received = { delays: new Map(), connected: false, error: undefined };
  const req = request(url, { agent: false, headers: { accept: "text/event-stream", cookie } }, (res) => {
    responses.push(res);
    if (res.statusCode !== 200) got.error = `HTTP ${res.statusCode}`;
    res.setEncoding("utf8");
    let buffer = "";
    res.on("data", (chunk: string) => {
      const at = Date.now();
      buffer += chunk;
      let cut = buffer.indexOf("\n\n");
      while (cut >= 0) {
        const message = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        cut = buffer.indexOf("\n\n");
        const lines = message.split("\n");
        const event = lines
          .find((l) => l.startsWith("event:"))
          ?.slice(6)
          .trim();
        if (event === "connected") got.connected = true;
        else if (event === "serialized-error") got.error = lines.find((l) => l.startsWith("data:"))?.slice(5);
        const id = lines
          .find((l) => l.startsWith("id:"))
          ?.slice(3)
          .trim();
        if (id !== undefined && windowOpen) {
          const sec = Number(id);
          got.delays.set(sec, at - (sec + 1) * 1000);
        }
      }
    });
    res.on("error", (err) => {
      got.error ??= err.message;
    });
  });
  req.on("error", (err) => {
    got.error ??= err.message;
  });
  req.end();
  return got;
}

// Connect in steps of 20 a tick, as a crowd of browsers would, not all in one instant.
for (let i = 0; i < clients; i++) {
  all.push(subscribe());
  if (i % 20 === 19) await new Promise((r) => setTimeout(r, 50));
}
const deadline = Date.now() + 30_000;
while (all.some((c) => !c.connected && c.error === undefined) && Date.now() < deadline) {
  await new Promise((r) => setTimeout(r, 100));
}
windowOpen = true;
const startedAt = Date.now();
print({ window: "start", at: startedAt, connected: all.filter((c) => c.connected).length });
await new Promise((r) => setTimeout(r, seconds * 1000));
windowOpen = false;
const endedAt = Date.now();
print({ window: "end", at: endedAt });
for (const res of responses) res.destroy();

// The seconds the window covers whole: those every client should have (any client got them, and they ended inside
// the window with time to arrive).
const expected = new Set<number>();
for (const c of all) for (const sec of c.delays.keys()) expected.add(sec);
const covered = [...expected].filter((s) => (s + 1) * 1000 >= startedAt && (s + 1) * 1000 + 2000 <= endedAt);
let maxDelayMs = 0;
let complete = 0;
/** Second → clients that got it later than 1 s or not at all: one stall shows as one second with many. */
const late = new Map<number, number>();
/** Late seconds that arrived within 50 ms of the second after them: sent late by the server, not held up on the way. */
let lateWithNext = 0;
const delays: number[] = [];
for (const c of all) {
  let ok = c.connected && c.error === undefined;
  for (const s of covered) {
    const d = c.delays.get(s);
    if (d !== undefined) {
      delays.push(d);
      maxDelayMs = Math.max(maxDelayMs, d);
    }
    if (d === undefined || d > 1000) {
      ok = false;
      late.set(s, (late.get(s) ?? 0) + 1);
      const next = c.delays.get(s + 1);
      if (d !== undefined && next !== undefined && Math.abs(d - (next + 1000)) < 50) lateWithNext++;
    }
  }
  if (ok) complete++;
}
delays.sort((a, b) => a - b);
print({
  clients,
  connected: all.filter((c) => c.connected).length,
  errors: [...new Set(all.flatMap((c) => (c.error ? [c.error] : [])))].slice(0, 5),
  secondsExpected: covered.length,
  clientsWithEveryUpdate: complete,
  maxDelayMs,
  p50DelayMs: delays[Math.floor(delays.length / 2)] ?? null,
  p99DelayMs: delays[Math.floor(delays.length * 0.99)] ?? null,
  lateArrivedWithNext: lateWithNext,
  lateClientsBySecond: Object.fromEntries([...late].map(([sec, n]) => [new Date(sec * 1000).toISOString(), n])),
});
process.exit(0);
