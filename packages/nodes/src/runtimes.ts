import { fileSinkRuntime } from "./connectors/files/file-sink.run";
import { fileSourceRuntime } from "./connectors/files/file-source.run";
import { httpSinkRuntime } from "./connectors/http/http-sink.run";
import { webhookSourceRuntime } from "./connectors/http/webhook-source.run";
import { mariadbSinkRuntime } from "./connectors/mariadb/mariadb-sink.run";
import { mariadbSourceRuntime } from "./connectors/mariadb/mariadb-source.run";
import { mqttSinkRuntime } from "./connectors/mqtt/mqtt-sink.run";
import { mqttSourceRuntime } from "./connectors/mqtt/mqtt-source.run";
import { natsSinkRuntime } from "./connectors/nats/nats-sink.run";
import { natsSourceRuntime } from "./connectors/nats/nats-source.run";
import { postgresCdcRuntime } from "./connectors/postgres/postgres-cdc.run";
import { postgresLookupRuntime } from "./connectors/postgres/postgres-lookup.run";
import { postgresSinkRuntime } from "./connectors/postgres/postgres-sink.run";
import { postgresSourceRuntime } from "./connectors/postgres/postgres-source.run";
import { rabbitmqSinkRuntime } from "./connectors/rabbitmq/rabbitmq-sink.run";
import { rabbitmqSourceRuntime } from "./connectors/rabbitmq/rabbitmq-source.run";
import { redisStreamSinkRuntime } from "./connectors/redis/redis-stream-sink.run";
import { redisStreamSourceRuntime } from "./connectors/redis/redis-stream-source.run";
import { createRuntimeRegistry } from "./runtime-contract";
import { consoleRuntime } from "./sinks/console.run";
import { discardRuntime } from "./sinks/discard.run";
import { generatorRuntime } from "./sources/generator.run";
import { nexmarkRuntime } from "./sources/nexmark.run";
import { dedupeRuntime } from "./transforms/dedupe.run";
import { filterRuntime } from "./transforms/filter.run";
import { flattenRuntime } from "./transforms/flatten.run";
import { joinRuntime } from "./transforms/join.run";
import { mapRuntime } from "./transforms/map.run";
import { parseRuntime } from "./transforms/parse.run";
import { routeRuntime } from "./transforms/route.run";
import { selectRuntime } from "./transforms/select.run";
import { topnRuntime } from "./transforms/topn.run";
import { unionRuntime } from "./transforms/union.run";
import { validateRuntime } from "./transforms/validate.run";
import { windowRuntime } from "./transforms/window.run";

// The runtime of every node type in catalog.ts. Server-only.
export const runtimes = createRuntimeRegistry([
  generatorRuntime,
  nexmarkRuntime,
  filterRuntime,
  mapRuntime,
  selectRuntime,
  flattenRuntime,
  parseRuntime,
  routeRuntime,
  unionRuntime,
  validateRuntime,
  windowRuntime,
  dedupeRuntime,
  joinRuntime,
  topnRuntime,
  consoleRuntime,
  discardRuntime,
  mariadbSourceRuntime,
  mariadbSinkRuntime,
  postgresSourceRuntime,
  postgresCdcRuntime,
  postgresSinkRuntime,
  postgresLookupRuntime,
  redisStreamSourceRuntime,
  redisStreamSinkRuntime,
  natsSourceRuntime,
  natsSinkRuntime,
  mqttSourceRuntime,
  mqttSinkRuntime,
  rabbitmqSourceRuntime,
  rabbitmqSinkRuntime,
  fileSourceRuntime,
  fileSinkRuntime,
  webhookSourceRuntime,
  httpSinkRuntime,
]);
