import { jetstream, jetstreamManager, type PubAck } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { SinkRuntime } from "../../runtime-contract";
import { NodeConfigError } from "../../runtime-expressions";
import { messageId, PayloadEncoder } from "../messaging/codec";
import { errorText, openError } from "../messaging/connection-problems";
import { connectNats, diagnoseNats, natsConfig, natsWhere } from "./nats-client";
import type { NatsSinkConfig } from "./nats-sink.def";

// Publish a batch without waiting between messages, then wait for every PubAck. Message ids derived from the batch
// let the stream's duplicate window drop what a replay publishes again.

export const natsSinkRuntime: SinkRuntime<NatsSinkConfig> = {
  kind: "sink",
  type: "sink.nats-jetstream",
  async open(ctx) {
    const c = ctx.config;
    const conn = natsConfig(ctx.services.connections.get(c.connection, "nats"));
    const where = natsWhere(conn);
    let nc: NatsConnection | undefined;
    try {
      nc = await connectNats(
        conn,
        `${ctx.runId}:${ctx.nodeId}:${ctx.partition}`,
        "run",
        ctx.services.destinations.for(c.connection),
      );
      const jsm = await jetstreamManager(nc);
      const stream = await jsm.streams.find(c.subject).catch(() => undefined);
      if (stream === undefined) {
        throw new NodeConfigError(ctx.nodeId, "subject", `no stream on ${where} captures the subject "${c.subject}"`);
      }
    } catch (err) {
      await nc?.close().catch(() => {});
      if (err instanceof NodeConfigError) throw err;
      throw openError(ctx, c.connection, diagnoseNats(err, where));
    }
    const connection = nc;
    const js = jetstream(connection, { timeout: c.ackTimeout });
    const encoder = new PayloadEncoder(c);

    return {
      async write(records, batch) {
        const acks: Promise<PubAck>[] = new Array(records.length);
        for (let i = 0; i < records.length; i++) {
          const payload = encoder.encode(records[i]!);
          acks[i] = js.publish(c.subject, payload, { msgID: messageId(batch.batchId, i, payload) });
        }
        const outcomes = await Promise.allSettled(acks);
        const failed = outcomes.findIndex((o) => o.status === "rejected");
        if (failed >= 0) {
          const reason = (outcomes[failed] as PromiseRejectedResult).reason;
          const n = outcomes.filter((o) => o.status === "rejected").length;
          throw new Error(
            `publishing to "${c.subject}" on ${where}: ${n} of ${records.length} messages were not acknowledged (${diagnoseNats(reason, where).message || errorText(reason)})`,
          );
        }
      },
      async close() {
        await connection.close().catch(() => {});
      },
    };
  },
};
