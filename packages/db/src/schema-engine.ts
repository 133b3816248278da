import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { PrismaPg } from "@prisma/adapter-pg";
import {
  bindMigrationAwareSqlAdapterFactory,
  type SqlMigrationAwareDriverAdapterFactory,
} from "@prisma/driver-adapter-utils";
import * as bindings from "@prisma/schema-engine-wasm/schema_engine_bg";
import pg from "pg";
import { type PostgresFields, parsePostgresUrl } from "./postgres-url";

// Prisma's schema engine compiled to WebAssembly, driven over node-postgres. The native engine that
// `prisma migrate` downloads is not available offline; this one ships inside an npm package.

/**
 * The schema engine's catalog queries return Postgres' internal "char" type (OID 18), which adapter-pg
 * cannot map; report it as text (OID 25).
 */
class CharAsTextClient extends pg.Client {
  // biome-ignore lint/suspicious/noExplicitAny: pg.Client.query is heavily overloaded; this wrapper forwards every form.
  override query(config: any, values?: any, callback?: any): any {
    const fix = <T extends { fields?: { dataTypeID: number }[] } | undefined>(res: T): T => {
      for (const f of res?.fields ?? []) if (f.dataTypeID === 18) f.dataTypeID = 25;
      return res;
    };
    if (typeof values === "function") {
      callback = values;
      values = undefined;
    }
    if (typeof callback === "function") {
      return super.query(config, values, (err: Error | null, res: { fields?: { dataTypeID: number }[] }) =>
        callback(err, err ? res : fix(res)),
      );
    }
    const result = super.query(config, values);
    return result && typeof result.then === "function" ? result.then(fix) : result;
  }
}

// Node ships WebAssembly but @types/node does not type it; this is the one call we make.
declare const WebAssembly: {
  instantiate(
    bytes: Uint8Array,
    imports: Record<string, object>,
  ): Promise<{ instance: { exports: Record<string, unknown> & { memory: unknown } } }>;
};

let initialised: Promise<void> | undefined;

/** Instantiates the wasm module by hand so no --experimental-wasm-modules flag is needed. */
function initWasm(): Promise<void> {
  initialised ??= (async () => {
    const require = createRequire(import.meta.url);
    const pkgDir = path.dirname(require.resolve("@prisma/schema-engine-wasm"));
    const bytes = await readFile(path.join(pkgDir, "schema_engine_bg.wasm"));
    const { instance } = await WebAssembly.instantiate(bytes, { "./schema_engine_bg.js": bindings });
    bindings.__wbg_set_wasm(instance.exports);
    (instance.exports.__wbindgen_start as () => void)();
  })();
  return initialised;
}

function adapterFactory(
  fields: PostgresFields,
  opened: { dispose(): Promise<void> }[],
): SqlMigrationAwareDriverAdapterFactory {
  const config = { ...fields, Client: CharAsTextClient } as ConstructorParameters<typeof PrismaPg>[0];
  const main = new PrismaPg(config);
  return {
    provider: main.provider,
    adapterName: main.adapterName,
    connect: async () => {
      const adapter = await main.connect();
      opened.push(adapter);
      return adapter;
    },
    // Our own shadow database: adapter-pg's version drops it while its pool still holds connections.
    connectToShadowDb: async () => {
      const admin = new pg.Client(fields);
      await admin.connect();
      const name = `sluice_shadow_${process.pid}_${Date.now()}`;
      await admin.query(`CREATE DATABASE "${name}"`);
      const adapter = await new PrismaPg({ ...(config as object), database: name } as typeof config).connect();
      const dispose = adapter.dispose.bind(adapter);
      adapter.dispose = async () => {
        await dispose();
        await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
        await admin.end();
      };
      return adapter;
    },
  };
}

export interface OpenSchemaEngine {
  engine: bindings.SchemaEngine;
  /** Frees the engine and closes its database connections (Postgres cannot clone a database in use). */
  close(): Promise<void>;
}

export async function openSchemaEngine(
  databaseUrl: string,
  schemaPath: string,
  schema: string,
): Promise<OpenSchemaEngine> {
  await initWasm();
  const opened: { dispose(): Promise<void> }[] = [];
  const adapter = bindMigrationAwareSqlAdapterFactory(adapterFactory(parsePostgresUrl(databaseUrl), opened));
  const engine = await bindings.SchemaEngine.new({ datamodels: [[schemaPath, schema]] }, () => {}, adapter);
  return {
    engine,
    async close() {
      engine.free();
      await Promise.allSettled(opened.map((a) => a.dispose()));
    },
  };
}
