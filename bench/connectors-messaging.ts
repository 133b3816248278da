import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect as natsConnect } from "@nats-io/transport-node";
import { writtenBatchesKey } from "@sluice/nodes/connectors/redis/redis-stream-sink.run";
import type { SourceReader } from "@sluice/nodes/runtime-contract";
import amqp from "amqplib";
import { Redis } from "ioredis";
import mqtt from "mqtt";
import {
  type BenchCase,
  benchRecord,
  benchRecords,
  driveSource,
  driveSources,
  inChunks,
  openSource,
  runSink,
  shares,
  startThread,
  uniqueName,
} from "./connectors-support";
import type { ThreadData, ThreadMessage } from "./connectors-threads";

// Redis Streams, NATS JetStream, MQTT and RabbitMQ cases of `npm run bench -- connectors`, against the shared
// servers, each on a stream / subject / topic / queue of its own that is deleted afterwards. Sources read a backlog
// filled beforehand with a plain client (MQTT: produced while it reads, see connectors-threads.ts). Payloads are
// the 200-byte records as JSON, the connectors' default format.

export const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const NATS_URL = process.env.SLUICE_BENCH_NATS_URL ?? "nats://127.0.0.1:4222";
const MQTT_URL = process.env.SLUICE_BENCH_MQTT_URL ?? "mqtt://127.0.0.1:1883";
const AMQP_URL = process.env.SLUICE_BENCH_AMQP_URL ?? "amqp://127.0.0.1:5672/";

const json = (i: number) => JSON.stringify(benchRecord(i));

function expectId(actual: unknown, index: number): void {
  if (actual !== index) throw new Error(`message ${index} has id ${String(actual)}: out of order or lost`);
}

// --- Redis Streams ---------------------------------------------------------------------------------------------

const redisBundle = { r: { type: "redis", config: { url: REDIS_URL } } };

const redisSink: BenchCase = {
  connector: "redis-stream",
  direction: "sink",
  defaultRecords: 1_000_000,
  target: 300_000,
  what: "sink.redis-stream: one Lua script per batch (idempotence marker + one XADD per record), json payload",
  async run(o) {
    const redis = new Redis(REDIS_URL);
    const stream = uniqueName("sluice-bench-sink");
    try {
      const m = await runSink("sink.redis-stream", { connection: "r", stream }, o, { connections: redisBundle });
      const n = await redis.xlen(stream);
      if (n !== o.records + o.warmup) throw new Error(`the stream holds ${n} entries, not ${o.records + o.warmup}`);
      return m;
    } finally {
      await redis.del(stream, writtenBatchesKey(stream));
      redis.disconnect();
    }
  },
};

const FILL_STREAM = "for i = 1, #ARGV do redis.call('XADD', KEYS[1], '*', 'data', ARGV[i]) end return #ARGV";

const redisSource: BenchCase = {
  connector: "redis-stream",
  direction: "source",
  defaultRecords: 1_000_000,
  target: 300_000,
  partitioned: true,
  what: "source.redis-stream: XREAD COUNT 1000 after the last id, json payload decoded into records (P partitions: P streams)",
  async run(o) {
    const redis = new Redis(REDIS_URL);
    const base = uniqueName("sluice-bench-source");
    const streams = Array.from({ length: o.partitions }, (_, p) => (o.partitions === 1 ? base : `${base}:${p}`));
    try {
      const total = o.records + o.warmup;
      o.log(`filling ${streams.length} stream(s) with ${total} entries`);
      // Stream p holds records first[p], first[p] + 1, …: each partition's share of the warm-up, then of the rest.
      const warm = shares(o.warmup, streams.length);
      const timed = shares(o.records, streams.length);
      const first: number[] = [];
      let id = 0;
      for (let p = 0; p < streams.length; p++) {
        first.push(id);
        const stream = streams[p]!;
        const base = id;
        await inChunks(warm[p]! + timed[p]!, 1000, 4, (from, n) =>
          redis.eval(FILL_STREAM, 1, stream, ...Array.from({ length: n }, (_, k) => json(base + from + k))),
        );
        id += warm[p]! + timed[p]!;
      }
      const runId = uniqueName("bench-redis");
      const readers: SourceReader[] = [];
      try {
        for (let p = 0; p < streams.length; p++) {
          readers.push(
            await openSource("source.redis-stream", { connection: "r", stream: streams }, runId, {
              connections: redisBundle,
              partition: p,
              partitions: streams.length,
            }),
          );
        }
        return await driveSources(readers, o, (p) => (r, i) => expectId(r.id, first[p]! + i));
      } finally {
        for (const r of readers) await r.close();
      }
    } finally {
      await redis.del(...streams);
      redis.disconnect();
    }
  },
};

// --- NATS JetStream --------------------------------------------------------------------------------------------

const natsBundle = { n: { type: "nats", config: { servers: NATS_URL } } };

/** A file-stored stream of its own capturing `<name>.>`, deleted after `work`. */
async function withNatsStream<T>(work: (name: string) => Promise<T>): Promise<T> {
  const nc = await natsConnect({ servers: NATS_URL });
  const jsm = await jetstreamManager(nc);
  const name = uniqueName("SLUICE_BENCH", "_");
  await jsm.streams.add({ name, subjects: [`${name}.>`] });
  try {
    return await work(name);
  } finally {
    await jsm.streams.delete(name).catch(() => {});
    await nc.close();
  }
}

const natsSink: BenchCase = {
  connector: "nats-jetstream",
  direction: "sink",
  defaultRecords: 200_000,
  what: "sink.nats-jetstream: publish the batch with message ids, then wait for every PubAck (file storage)",
  run: (o) =>
    withNatsStream(async (name) => {
      const m = await runSink("sink.nats-jetstream", { connection: "n", subject: `${name}.out` }, o, {
        connections: natsBundle,
      });
      const nc = await natsConnect({ servers: NATS_URL });
      const n = (await (await jetstreamManager(nc)).streams.info(name)).state.messages;
      await nc.close();
      if (n !== o.records + o.warmup) throw new Error(`the stream holds ${n} messages, not ${o.records + o.warmup}`);
      return m;
    }),
};

const natsSource: BenchCase = {
  connector: "nats-jetstream",
  direction: "source",
  defaultRecords: 300_000,
  what: "source.nats-jetstream: durable pull consumer (ack policy all, 10,000 in flight), ack of the last message per commit",
  run: (o) =>
    withNatsStream(async (name) => {
      const total = o.records + o.warmup;
      o.log(`publishing ${total} messages`);
      const nc = await natsConnect({ servers: NATS_URL });
      const js = jetstream(nc);
      await inChunks(total, 1000, 1, (from, n) =>
        Promise.all(Array.from({ length: n }, (_, k) => js.publish(`${name}.in`, json(from + k)))),
      );
      await nc.close();
      const reader = await openSource(
        "source.nats-jetstream",
        { connection: "n", stream: name },
        uniqueName("bench-nats"),
        { connections: natsBundle },
      );
      try {
        return await driveSource(reader, o, (r, i) => expectId(r.id, i));
      } finally {
        await reader.close();
      }
    }),
};

// --- MQTT ------------------------------------------------------------------------------------------------------

const mqttBundle = { m: { type: "mqtt", config: { url: MQTT_URL } } };

const mqttSink: BenchCase = {
  connector: "mqtt",
  direction: "sink",
  defaultRecords: 200_000,
  what: "sink.mqtt: QoS 1, publish the batch, then wait for every PUBACK (MQTT 5, Mosquitto; no subscriber)",
  async run(o) {
    const topic = `${uniqueName("sluice-bench")}/out`;
    return runSink("sink.mqtt", { connection: "m", topic }, o, { connections: mqttBundle });
  },
};

const mqttSource: BenchCase = {
  connector: "mqtt",
  direction: "source",
  defaultRecords: 200_000,
  what: "source.mqtt: QoS 1 persistent session, 1,000 in flight, PUBACKs held until the commit; fed live by a producer thread",
  async run(o) {
    const topic = `${uniqueName("sluice-bench")}/in`;
    const runId = uniqueName("bench-mqtt");
    const total = o.records + o.warmup;
    // The source subscribes first (its persistent session then queues what is published), then the producer starts.
    const reader = await openSource("source.mqtt", { connection: "m", topic }, runId, { connections: mqttBundle });
    const counters = new SharedArrayBuffer(8);
    const shared = new Int32Array(counters);
    let producerError: Error | undefined;
    const data: ThreadData = {
      kind: "mqtt-producer",
      url: MQTT_URL,
      topic,
      total,
      window: 1500,
      connections: 8,
      counters,
      payloads: Array.from({ length: 1000 }, (_, i) => json(i)),
    };
    const producer = await startThread<ThreadMessage>(data, (m) => {
      if (m.type === "error") producerError = new Error(`producer: ${m.message}`);
    });
    try {
      return await driveSource(reader, {
        ...o,
        onProgress: (done) => {
          Atomics.store(shared, 0, done);
          if (producerError) throw producerError;
        },
      });
    } finally {
      await producer.stop();
      await reader.close();
      // End the persistent session the source left on the broker.
      const c = await mqtt.connectAsync(MQTT_URL, {
        clientId: `sluice-${runId}-bench-0`,
        clean: true,
        protocolVersion: 5,
      });
      await c.endAsync();
    }
  },
};

// --- RabbitMQ --------------------------------------------------------------------------------------------------

const rabbitBundle = { q: { type: "rabbitmq", config: { url: AMQP_URL, username: "guest", password: "guest" } } };

/** A durable queue of its own, deleted after `work`. */
async function withQueue<T>(work: (queue: string, channel: amqp.Channel) => Promise<T>): Promise<T> {
  const model = await amqp.connect(AMQP_URL.replace("amqp://", "amqp://guest:guest@"));
  const channel = await model.createChannel();
  const queue = uniqueName("sluice-bench");
  await channel.assertQueue(queue, { durable: true });
  try {
    return await work(queue, channel);
  } finally {
    await channel.deleteQueue(queue).catch(() => {});
    await model.close();
  }
}

const rabbitmqSink: BenchCase = {
  connector: "rabbitmq",
  direction: "sink",
  defaultRecords: 200_000,
  what: "sink.rabbitmq: confirm channel, persistent + mandatory messages to a durable queue, wait for the batch's confirms",
  run: (o) =>
    withQueue(async (queue, channel) => {
      const m = await runSink("sink.rabbitmq", { connection: "q", routingKey: queue }, o, {
        connections: rabbitBundle,
      });
      const { messageCount } = await channel.checkQueue(queue);
      if (messageCount !== o.records + o.warmup) throw new Error(`the queue holds ${messageCount} messages`);
      return m;
    }),
};

const rabbitmqSource: BenchCase = {
  connector: "rabbitmq",
  direction: "source",
  defaultRecords: 200_000,
  what: "source.rabbitmq: prefetch 1,000, manual ack (multiple) of the last message per commit, durable queue, persistent messages",
  run: (o) =>
    withQueue(async (queue) => {
      const total = o.records + o.warmup;
      o.log(`publishing ${total} messages`);
      const model = await amqp.connect(AMQP_URL.replace("amqp://", "amqp://guest:guest@"));
      const confirm = await model.createConfirmChannel();
      await inChunks(total, 5000, 1, async (from, n) => {
        for (const r of benchRecords(from, n)) {
          confirm.sendToQueue(queue, Buffer.from(JSON.stringify(r)), {
            persistent: true,
            contentType: "application/json",
          });
        }
        await confirm.waitForConfirms();
      });
      await model.close();
      const reader = await openSource("source.rabbitmq", { connection: "q", queue }, uniqueName("bench-rabbitmq"), {
        connections: rabbitBundle,
      });
      try {
        return await driveSource(reader, o, (r, i) => expectId(r.id, i));
      } finally {
        await reader.close();
      }
    }),
};

export const MESSAGING_CASES: BenchCase[] = [
  redisSource,
  redisSink,
  natsSource,
  natsSink,
  mqttSource,
  mqttSink,
  rabbitmqSource,
  rabbitmqSink,
];
