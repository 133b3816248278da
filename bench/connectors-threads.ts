import { isMainThread, parentPort, workerData } from "node:worker_threads";

// The other side of some connector cases of `npm run bench -- connectors`, each in a worker thread of its own so
// it runs on the second core instead of taking turns with the connector being measured (started by startThread in
// connectors-support.ts; stopped by a "stop" message):
//
//   receiver       the HTTP sink's receiver: connectors/http/test-receiver.ts, counting the records it accepted
//   ingest         the webhook ingest endpoint: node:http in front of handleIngestRequest (packages/api/src/ingest),
//                  the function the web app's POST /api/ingest/<pipeline> route calls, writing into Redis
//   mqtt-producer  publishes `total` QoS 1 messages for the MQTT source over several connections, at most `window`
//                  ahead of what the source has read (Mosquitto keeps only 1,000 queued messages per client beyond
//                  those in flight)

export type ThreadData =
  | { kind: "receiver" }
  | { kind: "ingest"; redisUrl: string; prefix: string; maxBacklog: number }
  | {
      kind: "mqtt-producer";
      url: string;
      topic: string;
      total: number;
      window: number;
      /** Connections publishing at once. */
      connections: number;
      /** Int32Array view: [0] records the source has read (written by the main thread), [1] published. */
      counters: SharedArrayBuffer;
      payloads: string[];
    };

export type ThreadMessage =
  | { type: "ready"; url?: string }
  | { type: "counted"; records: number; requests: number }
  | { type: "published"; count: number }
  | { type: "error"; message: string };

async function receiver(post: (m: ThreadMessage) => void): Promise<() => Promise<void>> {
  const { TestReceiver } = await import("@sluice/nodes/connectors/http/test-receiver");
  const r = await TestReceiver.start();
  let records = 0;
  let requests = 0;
  // The receiver keeps every request it accepted; count them and let them go, so memory stays flat.
  const drain = () => {
    for (const a of r.accepted.splice(0)) {
      records += Number(a.headers["x-sluice-records"] ?? 0);
      requests++;
    }
  };
  const timer = setInterval(drain, 100);
  parentPort!.on("message", (m: { type: string }) => {
    if (m.type === "count") {
      drain();
      post({ type: "counted", records, requests });
    }
  });
  post({ type: "ready", url: r.url });
  return async () => {
    clearInterval(timer);
    await r.close();
  };
}

async function ingest(
  data: Extract<ThreadData, { kind: "ingest" }>,
  post: (m: ThreadMessage) => void,
): Promise<() => Promise<void>> {
  const { serveIngest } = await import("@sluice/nodes/connectors/http/ingest-endpoint");
  const { Redis } = await import("ioredis");
  const redis = new Redis(data.redisUrl, { maxRetriesPerRequest: 3 });
  const deps = { redis, keys: { prefix: data.prefix }, limits: { maxBacklog: data.maxBacklog } };
  // What a Node.js server in front of a route handler does: IncomingMessage → Request, Response → the socket.
  const server = await serveIngest(deps, 0);
  post({ type: "ready", url: server.url });
  return async () => {
    await server.close();
    redis.disconnect();
  };
}

async function mqttProducer(
  data: Extract<ThreadData, { kind: "mqtt-producer" }>,
  post: (m: ThreadMessage) => void,
): Promise<() => Promise<void>> {
  const { default: mqtt } = await import("mqtt");
  const counters = new Int32Array(data.counters);
  // Mosquitto lets a client have 20 QoS 1 publishes unacknowledged (its Receive Maximum): several connections, so
  // the producer is not what limits the source.
  const clients = await Promise.all(
    Array.from({ length: data.connections }, () => mqtt.connectAsync(data.url, { protocolVersion: 5, clean: true })),
  );
  let stopped = false;
  let sent = 0;
  post({ type: "ready" });
  const lane = async (client: (typeof clients)[number]) => {
    const chunk = 20;
    while (sent < data.total && !stopped) {
      if (sent - Atomics.load(counters, 0) > data.window) {
        await new Promise((r) => setTimeout(r, 1));
        continue;
      }
      const from = sent;
      const n = Math.min(chunk, data.total - from);
      sent += n;
      const acks: Promise<unknown>[] = [];
      for (let k = 0; k < n; k++) {
        acks.push(client.publishAsync(data.topic, data.payloads[(from + k) % data.payloads.length]!, { qos: 1 }));
      }
      await Promise.all(acks);
      Atomics.add(counters, 1, n);
    }
  };
  const done = Promise.all(clients.map(lane))
    .then(() => post({ type: "published", count: sent }))
    .catch((err: unknown) => post({ type: "error", message: String(err) }));
  return async () => {
    stopped = true;
    await done;
    await Promise.all(clients.map((c) => c.endAsync(true).catch(() => {})));
  };
}

if (!isMainThread && parentPort) {
  const port = parentPort;
  const post = (m: ThreadMessage) => port.postMessage(m);
  const data = workerData as ThreadData;
  const started =
    data.kind === "receiver" ? receiver(post) : data.kind === "ingest" ? ingest(data, post) : mqttProducer(data, post);
  started
    .then((stop) => {
      port.on("message", (m: { type: string }) => {
        if (m.type === "stop") void stop().finally(() => process.exit(0));
      });
    })
    .catch((err: unknown) =>
      post({ type: "error", message: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
    );
}
