import { createHealthHandler } from "@/server/api-routes";
import { getDeps } from "@/server/deps";
import { webEnv } from "@/server/env";

/** 200 when Postgres, Redis and at least one worker answer; 503 otherwise, with what is wrong. */
export async function GET(): Promise<Response> {
  return createHealthHandler(getDeps, { secure: webEnv().secureCookies })();
}
