import type { EventEmitter } from "node:events";
import amqp, { type Channel, type ChannelModel } from "amqplib";
import type { ConnectionDestinations } from "../../destination-policy";
import { type Diagnosis, errorText, networkProblem, refusedDestination } from "../messaging/connection-problems";
import { parseAmqpUrl, type RabbitmqConnectionConfig, rabbitmqConnectionDef } from "./rabbitmq-connection.def";

// amqplib connections for a RabbitMQ connection, and what their errors mean to a person. Server-only.

export function rabbitmqConfig(raw: unknown): RabbitmqConnectionConfig {
  return rabbitmqConnectionDef.config.parse(raw);
}

export function rabbitmqWhere(c: RabbitmqConnectionConfig): string {
  const e = parseAmqpUrl(c.url);
  return typeof e === "string" ? c.url : `rabbitmq ${e.host}:${e.port} vhost ${e.vhost}`;
}

/** Connects to the broker's checked address (see destination-policy.ts); TLS names the host. */
export async function connectRabbitmq(
  c: RabbitmqConnectionConfig,
  name: string,
  destinations: ConnectionDestinations,
): Promise<ChannelModel> {
  const e = parseAmqpUrl(c.url);
  if (typeof e === "string") throw new Error(`rabbitmq connection URL: ${e}`);
  const to = await destinations.resolve(e.host, e.port);
  const model = await amqp.connect(
    {
      protocol: e.tls ? "amqps" : "amqp",
      hostname: to.address,
      port: e.port,
      vhost: e.vhost,
      username: c.username,
      password: c.password ?? "",
      heartbeat: c.heartbeat,
    },
    {
      timeout: 5000,
      clientProperties: { connection_name: `sluice:${name}` },
      ...(e.tls
        ? { rejectUnauthorized: c.tlsVerify, ...(to.servername !== undefined ? { servername: to.servername } : {}) }
        : {}),
    },
  );
  // Errors reach us through the operations that fail and the "close" event.
  model.on("error", () => {});
  return model;
}

/** How long a close waits for the broker's answer before it gives up on it. */
const CLOSE_WAIT_MS = 2000;

/**
 * Closes a connection and resolves within `ms`, whatever state it is in. amqplib's close() sends Close and waits
 * for CloseOk; when the socket drops meanwhile (the broker went away a moment before, and the "close" event had not
 * arrived yet) the connection closes but that promise never settles (amqp-node/amqplib#181), which would hang the
 * task that closes it. So: done at CloseOk, at the connection's "close" event, or after `ms`, when the socket is
 * destroyed (with an error, so amqplib tears the connection down and stops its heartbeat).
 */
export function closeRabbitmq(model: ChannelModel | undefined, ms = CLOSE_WAIT_MS): Promise<void> {
  if (!model) return Promise.resolve();
  return closedWithin(
    model,
    () => model.close(),
    ms,
    () => {
      const socket = (model.connection as unknown as { stream?: { destroy?: (err?: Error) => void } }).stream;
      socket?.destroy?.(new Error("closed without the broker's answer"));
    },
  );
}

/** A channel's close, bounded the same way (its CloseOk never comes when the connection drops meanwhile). */
export function closeChannel(channel: Channel, ms = CLOSE_WAIT_MS): Promise<void> {
  return closedWithin(channel, () => channel.close(), ms);
}

function closedWithin(
  target: EventEmitter,
  close: () => Promise<void>,
  ms: number,
  giveUp?: () => void,
): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      target.off("close", done);
      resolve();
    };
    const timer = setTimeout(() => {
      giveUp?.();
      done();
    }, ms);
    target.once("close", done);
    try {
      // Already closed: amqplib answers with an error (or throws it) at once.
      close().then(done, done);
    } catch {
      done();
    }
  });
}

export function diagnoseRabbitmq(err: unknown, where: string): Diagnosis {
  const refused = refusedDestination(err);
  if (refused) return refused;
  const text = errorText(err);
  if (/Login was refused|Handshake terminated by server: 403/.test(text)) {
    return { problem: "auth-failed", message: `${where} refused the user name or password (ACCESS_REFUSED)` };
  }
  if (/Expected ConnectionOpenOk|NOT_ALLOWED|vhost .* not found/i.test(text)) {
    return {
      problem: "permission",
      message: `${where}: the virtual host does not exist, or the user may not use it`,
    };
  }
  if (/ACCESS[-_]REFUSED/.test(text)) {
    return { problem: "permission", message: `the user may not do this on ${where}: ${text}` };
  }
  if (/404 \(NOT-FOUND\)|NOT_FOUND/.test(text)) {
    const what = /NOT_FOUND - ([^"]*)/.exec(text)?.[1] ?? text;
    return { problem: "not-found", message: `${where}: ${what}` };
  }
  if (/PRECONDITION_FAILED|406/.test(text)) {
    return { problem: "misconfigured", message: `${where}: ${text}` };
  }
  return networkProblem(err, where) ?? { problem: "other", message: `${where}: ${text}` };
}
