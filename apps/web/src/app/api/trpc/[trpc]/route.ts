import { getDeps } from "@/server/deps";
import { webEnv } from "@/server/env";
import { createTrpcHandler } from "@/server/trpc-handler";

// The tRPC API: body and batch limits, Retry-After on rate-limited calls and security headers are in trpc-handler.ts.

let handle: ((req: Request) => Promise<Response>) | undefined;

function handler(req: Request): Promise<Response> {
  handle ??= createTrpcHandler(getDeps, { maxBodyBytes: webEnv().apiMaxBody });
  return handle(req);
}

export { handler as GET, handler as POST };
