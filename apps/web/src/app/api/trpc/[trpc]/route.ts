import { createRequestContext } from "@sluice/api/context";
import { appRouter } from "@sluice/api/root";
import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { getDeps } from "@/server/deps";

function handler(req: Request): Promise<Response> {
  return fetchRequestHandler({
    endpoint: "/api/trpc",
    req,
    router: appRouter,
    createContext: ({ req, resHeaders }) => createRequestContext(getDeps(), req, resHeaders),
    onError({ error, path }) {
      if (error.code === "INTERNAL_SERVER_ERROR") console.error(`tRPC ${path ?? "?"} failed:`, error.cause ?? error);
    },
  });
}

export { handler as GET, handler as POST };
