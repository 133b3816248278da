import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "./generated/prisma/client";
import { parsePostgresUrl } from "./postgres-url";

export type Db = PrismaClient;

/** One Prisma client over a node-postgres pool. The app that owns the process builds it and passes it down. */
export function createDb(databaseUrl: string, options: { poolSize?: number } = {}): Db {
  const adapter = new PrismaPg({ ...parsePostgresUrl(databaseUrl), max: options.poolSize ?? 10 });
  return new PrismaClient({ adapter });
}
