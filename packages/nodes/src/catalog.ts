import { createCatalog } from "@sluice/pipeline/node-definition";
import { fileSinkDef } from "./connectors/files/file-sink.def";
import { fileSourceDef } from "./connectors/files/file-source.def";
import { httpSinkDef } from "./connectors/http/http-sink.def";
import { webhookSourceDef } from "./connectors/http/webhook-source.def";
import { mariadbSinkDef } from "./connectors/mariadb/mariadb-sink.def";
import { mariadbSourceDef } from "./connectors/mariadb/mariadb-source.def";
import { mqttSinkDef } from "./connectors/mqtt/mqtt-sink.def";
import { mqttSourceDef } from "./connectors/mqtt/mqtt-source.def";
import { natsSinkDef } from "./connectors/nats/nats-sink.def";
import { natsSourceDef } from "./connectors/nats/nats-source.def";
import { postgresCdcDef } from "./connectors/postgres/postgres-cdc.def";
import { postgresLookupDef } from "./connectors/postgres/postgres-lookup.def";
import { postgresSinkDef } from "./connectors/postgres/postgres-sink.def";
import { postgresSourceDef } from "./connectors/postgres/postgres-source.def";
import { rabbitmqSinkDef } from "./connectors/rabbitmq/rabbitmq-sink.def";
import { rabbitmqSourceDef } from "./connectors/rabbitmq/rabbitmq-source.def";
import { redisStreamSinkDef } from "./connectors/redis/redis-stream-sink.def";
import { redisStreamSourceDef } from "./connectors/redis/redis-stream-source.def";
import { consoleDef } from "./sinks/console.def";
import { discardDef } from "./sinks/discard.def";
import { generatorDef } from "./sources/generator.def";
import { nexmarkDef } from "./sources/nexmark.def";
import { dedupeDef } from "./transforms/dedupe.def";
import { filterDef } from "./transforms/filter.def";
import { flattenDef } from "./transforms/flatten.def";
import { joinDef } from "./transforms/join.def";
import { mapDef } from "./transforms/map.def";
import { parseDef } from "./transforms/parse.def";
import { routeDef } from "./transforms/route.def";
import { selectDef } from "./transforms/select.def";
import { topnDef } from "./transforms/topn.def";
import { unionDef } from "./transforms/union.def";
import { validateDef } from "./transforms/validate.def";
import { windowDef } from "./transforms/window.def";

// Every node type this build knows, in one explicit list (no registration by import side effects). Browser-safe.
export const catalog = createCatalog([
  generatorDef,
  nexmarkDef,
  filterDef,
  mapDef,
  selectDef,
  flattenDef,
  parseDef,
  routeDef,
  unionDef,
  validateDef,
  windowDef,
  dedupeDef,
  joinDef,
  topnDef,
  consoleDef,
  discardDef,
  mariadbSourceDef,
  mariadbSinkDef,
  postgresSourceDef,
  postgresCdcDef,
  postgresSinkDef,
  postgresLookupDef,
  redisStreamSourceDef,
  redisStreamSinkDef,
  natsSourceDef,
  natsSinkDef,
  mqttSourceDef,
  mqttSinkDef,
  rabbitmqSourceDef,
  rabbitmqSinkDef,
  fileSourceDef,
  fileSinkDef,
  webhookSourceDef,
  httpSinkDef,
]);
