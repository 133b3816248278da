import type { Db } from "@sluice/db/client";
import type { Keys } from "@sluice/pipeline/control/keys";
import { WORKER_TTL_MS } from "@sluice/pipeline/control/protocol";
import type { Redis } from "ioredis";

// GET /api/health: what an operator (and `npm start`) needs to know — can we reach Postgres and Redis, and how
// many workers are alive. Each probe has a deadline so a hung dependency shows as down instead of hanging.

export interface ProbeResult {
  ok: boolean;
  latencyMs: number;
  error?: string;
}

export interface Health {
  status: "ok" | "degraded";
  db: ProbeResult;
  redis: ProbeResult;
  workers: { live: number; ok: boolean };
}

async function probe(fn: () => Promise<unknown>, timeoutMs: number): Promise<ProbeResult> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      fn(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return { ok: true, latencyMs: Math.round(performance.now() - started) };
  } catch (err) {
    return {
      ok: false,
      latencyMs: Math.round(performance.now() - started),
      error: err instanceof Error ? err.message : String(err),
    };
  } finally {
    clearTimeout(timer);
  }
}

export async function checkHealth(deps: { db: Db; redis: Redis; keys: Keys }, timeoutMs = 2000): Promise<Health> {
  let live = 0;
  const [db, redis] = await Promise.all([
    probe(() => deps.db.$queryRaw`SELECT 1`, timeoutMs),
    probe(async () => {
      live = await deps.redis.zcount(deps.keys.workers, Date.now() - WORKER_TTL_MS, "+inf");
    }, timeoutMs),
  ]);
  const workers = { live, ok: live > 0 };
  return { status: db.ok && redis.ok && workers.ok ? "ok" : "degraded", db, redis, workers };
}
