import { DeliverPolicy, JetStreamApiCodes, jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { DataRecord } from "@sluice/pipeline/record-schema";
import type { ConnectionRuntime, DiscoveredObject } from "../../connection-runtime";
import { abortable, errorText, failed } from "../messaging/connection-problems";
import { sampleFields, sampleRecord } from "../messaging/sample-fields";
import { connectNats, diagnoseNats, isApiError, natsConfig, natsWhere } from "./nats-client";
import type { NatsConnectionConfig } from "./nats-connection.def";

// "Test connection" and discovery for NATS: connect, authenticate, ask JetStream for the account's figures; list
// the streams and sample a stream's newest messages through an ordered consumer (which acknowledges nothing and
// leaves no trace). Server-only.

const MAX_STREAMS = 1000;

export const natsConnectionRuntime: ConnectionRuntime<NatsConnectionConfig> = {
  type: "nats",
  async test(raw, signal, destinations) {
    let c: NatsConnectionConfig;
    try {
      c = natsConfig(raw);
    } catch (err) {
      return { ok: false, problem: "misconfigured", message: errorText(err) };
    }
    const where = natsWhere(c);
    let nc: NatsConnection | undefined;
    try {
      nc = await abortable(connectNats(c, "test-connection", "probe", destinations), signal);
      const jsm = await abortable(jetstreamManager(nc), signal);
      const account = await abortable(jsm.getAccountInfo(), signal);
      const version = nc.info?.version ?? "?";
      return {
        ok: true,
        message: `connected to ${where} (NATS ${version}); JetStream has ${account.streams} stream${account.streams === 1 ? "" : "s"} and ${account.consumers} consumer${account.consumers === 1 ? "" : "s"} for this account`,
        details: { version, streams: account.streams, consumers: account.consumers },
      };
    } catch (err) {
      if (signal.aborted) return { ok: false, problem: "timeout", message: `${where} did not answer in time` };
      return failed(diagnoseNats(err, where));
    } finally {
      await nc?.close().catch(() => {});
    }
  },

  async discover(raw, request, signal, destinations) {
    const c = natsConfig(raw);
    const where = natsWhere(c);
    const nc = await abortable(connectNats(c, "discovery", "probe", destinations), signal).catch((err: unknown) => {
      throw new Error(diagnoseNats(err, where).message);
    });
    try {
      const jsm = await jetstreamManager(nc);
      if (request.object !== undefined) {
        const name = request.object;
        const info = await jsm.streams.info(name).catch((err: unknown) => {
          if (isApiError(err, JetStreamApiCodes.StreamNotFound))
            throw new Error(`there is no stream "${name}" on ${where}`);
          throw err;
        });
        const want = Math.max(0, request.sample ?? 10);
        const sample: DataRecord[] = [];
        if (want > 0 && info.state.messages > 0) {
          const consumer = await jetstream(nc).consumers.get(name, {
            deliver_policy: DeliverPolicy.StartSequence,
            opt_start_seq: Math.max(info.state.first_seq, info.state.last_seq - want + 1),
          });
          const messages = await consumer.fetch({ max_messages: want, expires: 2000 });
          for await (const msg of messages) {
            sample.push(sampleRecord(msg.string()));
            if (msg.info.pending === 0 || sample.length >= want) break;
          }
        }
        const object: DiscoveredObject = {
          kind: "stream",
          name,
          rows: info.state.messages,
          fields: sampleFields(sample),
        };
        return { objects: [object], ...(request.sample ? { sample } : {}) };
      }
      const objects: DiscoveredObject[] = [];
      for await (const info of jsm.streams.list()) {
        objects.push({ kind: "stream", name: info.config.name, rows: info.state.messages });
        for (const subject of info.config.subjects ?? []) {
          objects.push({ kind: "subject", name: `${info.config.name}/${subject}` });
        }
        if (objects.length >= MAX_STREAMS || signal.aborted) break;
      }
      return { objects };
    } finally {
      await nc.close().catch(() => {});
    }
  },
};
