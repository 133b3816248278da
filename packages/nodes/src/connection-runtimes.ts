import { createConnectionRuntimeRegistry } from "./connection-runtime";
import { httpConnectionRuntime } from "./connectors/http/http-connection.run";
import { webhookConnectionRuntime } from "./connectors/http/webhook-connection.run";
import { mariadbConnectionRuntime } from "./connectors/mariadb/mariadb-connection.run";
import { mqttConnectionRuntime } from "./connectors/mqtt/mqtt-connection.run";
import { natsConnectionRuntime } from "./connectors/nats/nats-connection.run";
import { postgresConnectionRuntime } from "./connectors/postgres/postgres-connection.run";
import { rabbitmqConnectionRuntime } from "./connectors/rabbitmq/rabbitmq-connection.run";
import { redisConnectionRuntime } from "./connectors/redis/redis-connection.run";

// The runtime (test, discovery) of every connection type in connections.ts. Server-only.
export const connectionRuntimes = createConnectionRuntimeRegistry([
  mariadbConnectionRuntime,
  postgresConnectionRuntime,
  redisConnectionRuntime,
  natsConnectionRuntime,
  mqttConnectionRuntime,
  rabbitmqConnectionRuntime,
  httpConnectionRuntime,
  webhookConnectionRuntime,
]);
