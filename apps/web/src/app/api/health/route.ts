import { createHealthHandler } from "@/server/api-routes";
import { getDeps } from "@/server/deps";

let handle: ReturnType<typeof createHealthHandler> | undefined;

/** 200 when Postgres, Redis and at least one worker answer; 503 otherwise, with what is wrong. */
export async function GET(): Promise<Response> {
  handle ??= createHealthHandler(getDeps);
  return handle();
}
