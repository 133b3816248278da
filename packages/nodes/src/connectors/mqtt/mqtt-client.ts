import mqtt, { type IClientOptions, type MqttClient } from "mqtt";
import { type ConnectionDestinations, formatAddress } from "../../destination-policy";
import { type Diagnosis, errorText, networkProblem, refusedDestination } from "../messaging/connection-problems";
import { type MqttConnectionConfig, mqttConnectionDef } from "./mqtt-connection.def";

// mqtt.js clients for an MQTT connection, and what their errors mean to a person. Server-only.

export function mqttConfig(raw: unknown): MqttConnectionConfig {
  return mqttConnectionDef.config.parse(raw);
}

export function mqttWhere(c: MqttConnectionConfig): string {
  return `mqtt ${c.url.replace(/^\w+:\/\//, "")}`;
}

export interface MqttSession {
  clientId: string;
  /** Keep the session (subscriptions, unacknowledged messages) across connections. */
  persistent: boolean;
  /** Seconds the broker keeps a persistent session after a disconnect (MQTT 5). */
  sessionExpiry?: number;
  /** How many unacknowledged QoS 1 messages the broker may send us (MQTT 5). */
  receiveMaximum?: number;
  /** Reconnect by itself after a drop (sinks); sources re-open through the engine instead. */
  reconnect: boolean;
}

const DEFAULT_PORTS: Readonly<Record<string, number>> = { "mqtt:": 1883, "mqtts:": 8883, "ws:": 80, "wss:": 443 };

/**
 * The options that send the client to the broker's checked address (see destination-policy.ts): resolved once,
 * reconnects go there too; the host name stays the TLS server name and, over WebSocket, the Host header.
 */
async function brokerAddress(c: MqttConnectionConfig, destinations: ConnectionDestinations): Promise<IClientOptions> {
  const u = new URL(c.url);
  const port = u.port !== "" ? Number(u.port) : (DEFAULT_PORTS[u.protocol] ?? 1883);
  const to = await destinations.resolve(u.hostname, port);
  const servername = to.servername !== undefined ? { servername: to.servername } : {};
  if (u.protocol === "ws:" || u.protocol === "wss:") {
    return { hostname: formatAddress(to.address), port, wsOptions: { headers: { host: u.host }, ...servername } };
  }
  return { host: to.address, hostname: to.address, port, ...servername };
}

/**
 * Connects; rejects with the broker's reason (bad user name or password, not authorised, …). `prepare` sees the
 * client before any packet is handled: a persistent session's queued messages may arrive right behind the CONNACK,
 * before an `await` on this function would resume.
 */

export async function connectMqtt(
  c: MqttConnectionConfig,
  session: MqttSession,
  destinations: ConnectionDestinations,
  prepare?: (client: MqttClient) => void,
): Promise<MqttClient> {
  const v5 = c.protocolVersion === "5";
  const options: IClientOptions = {
    ...(await brokerAddress(c, destinations)),
    clientId: session.clientId,
    clean: !session.persistent,
    protocolVersion: v5 ? 5 : 4,
    connectTimeout: 5000,
    reconnectPeriod: session.reconnect ? 1000 : 0,
    rejectUnauthorized: c.tlsVerify,
    ...(c.username !== undefined ? { username: c.username } : {}),
    ...(c.password !== undefined ? { password: c.password } : {}),
    ...(v5
      ? {
          properties: {
            ...(session.persistent ? { sessionExpiryInterval: session.sessionExpiry ?? 0 } : {}),
            ...(session.receiveMaximum !== undefined ? { receiveMaximum: session.receiveMaximum } : {}),
          },
        }
      : {}),
  };
  const client = mqtt.connect(c.url, options);
  prepare?.(client);
  try {
    await new Promise<void>((resolve, reject) => {
      const fail = (err: unknown) => {
        cleanup();
        reject(err);
      };
      const closed = () => fail(new Error("the broker closed the connection"));
      const ok = () => {
        cleanup();
        resolve();
      };
      const cleanup = () => {
        client.off("connect", ok);
        client.off("error", fail);
        client.off("close", closed);
      };
      client.once("connect", ok);
      client.once("error", fail);
      client.once("close", closed);
    });
  } catch (err) {
    client.end(true);
    throw err;
  }
  return client;
}

/** MQTT CONNACK reason codes that mean the credentials (v3: 4, 5; v5: 0x86, 0x87, 0x8C). */
const AUTH_CODES = new Set([4, 5, 0x86, 0x87, 0x8c]);

export function diagnoseMqtt(err: unknown, where: string): Diagnosis {
  const refused = refusedDestination(err);
  if (refused) return refused;
  const code = (err as { code?: unknown } | null)?.code;
  const text = errorText(err);
  if (
    (typeof code === "number" && AUTH_CODES.has(code)) ||
    /bad user ?name or password|not authori[sz]ed/i.test(text)
  ) {
    return { problem: "auth-failed", message: `${where} refused the user name or password (${text})` };
  }
  if (typeof code === "number" && code === 0x85) {
    return { problem: "misconfigured", message: `${where} refused the client id (${text})` };
  }
  if (typeof code === "number" && (code === 1 || code === 0x84)) {
    return { problem: "misconfigured", message: `${where} does not speak this MQTT version; try 3.1.1 (${text})` };
  }
  return networkProblem(err, where) ?? { problem: "other", message: `${where}: ${text}` };
}
