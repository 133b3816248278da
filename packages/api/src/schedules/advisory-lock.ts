import type { Db } from "@sluice/db/client";

// A PostgreSQL advisory lock as a mutex across every web process. It is held by an otherwise empty transaction, so
// the work inside writes through the normal client and each write commits at once (visible to the next holder);
// if the process dies, the connection closes and the lock goes with it.

/** Longest a holder may keep the lock; Prisma rolls the holding transaction back (releasing the lock) after it. */
const HOLD_LIMIT_MS = 60_000;
/** How long to wait for a pool connection to hold the lock with. */
const CONNECTION_WAIT_MS = 10_000;

/** `holdLimitMs` is for tests that need the lock to expire under a slow holder; work should stay well under it. */
export async function withAdvisoryLock<T>(
  db: Db,
  key: string,
  work: () => Promise<T>,
  holdLimitMs = HOLD_LIMIT_MS,
): Promise<T> {
  return db.$transaction(
    async (tx) => {
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${key}, 0))`;
      return work();
    },
    { maxWait: CONNECTION_WAIT_MS, timeout: holdLimitMs },
  );
}
