import { createConnectionCatalog } from "@sluice/pipeline/connection-definition";
import { httpConnection } from "./connectors/http/http-connection.def";
import { webhookConnection } from "./connectors/http/webhook-connection.def";
import { mariadbConnection } from "./connectors/mariadb/mariadb-connection.def";
import { mqttConnectionDef } from "./connectors/mqtt/mqtt-connection.def";
import { natsConnectionDef } from "./connectors/nats/nats-connection.def";
import { postgresConnection } from "./connectors/postgres/postgres-connection.def";
import { rabbitmqConnectionDef } from "./connectors/rabbitmq/rabbitmq-connection.def";
import { redisConnectionDef } from "./connectors/redis/redis-connection.def";

// Every connection type this build knows, in one explicit list. Browser-safe.
export const connectionCatalog = createConnectionCatalog([
  mariadbConnection,
  postgresConnection,
  redisConnectionDef,
  natsConnectionDef,
  mqttConnectionDef,
  rabbitmqConnectionDef,
  httpConnection,
  webhookConnection,
]);
