import { type ApiDeps, createRequestContext } from "@sluice/api/context";
import { retryAfterSeconds } from "@sluice/api/limits/limit-call";
import { appRouter } from "@sluice/api/root";
import { BodyTooLargeError, readBodyLimited } from "@sluice/nodes/connectors/http/limited-body";
import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { TRPC_ERROR_CODES_BY_KEY } from "@trpc/server/rpc";
import superjson from "superjson";
import { MAX_BATCH_CALLS } from "../trpc/limits";
import { withApiHeaders } from "./security-headers";

// The tRPC endpoint's HTTP side: the body is read with a limit before tRPC sees it, a batch holds at most
// MAX_BATCH_CALLS calls, a call refused by a rate limit makes the answer carry Retry-After, and every answer carries
// the security headers. The route file only binds it to the process's dependencies.

export interface TrpcHandlerOptions {
  /** Largest request body, in bytes (SLUICE_API_MAX_BODY). */
  maxBodyBytes: number;
}

/**
 * A tRPC-shaped error answer, encoded by superjson as tRPC's own are (the client reads `error.message`), for refusals
 * made before tRPC runs.
 */
function refusal(status: 400 | 413, message: string): Response {
  const code = status === 413 ? "PAYLOAD_TOO_LARGE" : "BAD_REQUEST";
  return Response.json(
    {
      error: superjson.serialize({ message, code: TRPC_ERROR_CODES_BY_KEY[code], data: { code, httpStatus: status } }),
    },
    { status, headers: { "cache-control": "no-store" } },
  );
}

function batchSize(url: URL): number {
  if (url.searchParams.get("batch") !== "1") return 1;
  const path = url.pathname.slice(url.pathname.lastIndexOf("/") + 1);
  let decoded = path;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    // tRPC refuses a malformed path itself.
  }
  return decoded.split(",").length;
}

export function createTrpcHandler(getDeps: () => ApiDeps, options: TrpcHandlerOptions) {
  const tooLarge = `the request body is larger than ${options.maxBodyBytes} bytes (SLUICE_API_MAX_BODY); send less at once`;

  async function answer(req: Request): Promise<Response> {
    const url = new URL(req.url);
    const calls = batchSize(url);
    if (calls > MAX_BATCH_CALLS) {
      return refusal(400, `a request may carry at most ${MAX_BATCH_CALLS} calls; this one carries ${calls}`);
    }
    let forwarded = req;
    if (req.method !== "GET" && req.method !== "HEAD") {
      let body: Uint8Array<ArrayBuffer>;
      try {
        body = await readBodyLimited(req, options.maxBodyBytes);
      } catch (err) {
        if (err instanceof BodyTooLargeError) return refusal(413, tooLarge);
        return refusal(400, "the request body could not be read");
      }
      forwarded = new Request(req.url, { method: req.method, headers: req.headers, body, signal: req.signal });
    }
    return fetchRequestHandler({
      endpoint: "/api/trpc",
      req: forwarded,
      router: appRouter,
      createContext: ({ req, resHeaders, info }) =>
        createRequestContext(getDeps(), req, resHeaders, info.connectionParams),
      responseMeta({ errors }) {
        const retryAfter = retryAfterSeconds(errors);
        return retryAfter === undefined ? {} : { headers: { "retry-after": String(retryAfter) } };
      },
    });
  }

  // HSTS when the deps' secureCookies is set (SLUICE_COOKIE_SECURE: the app is served over HTTPS).
  return async (req: Request): Promise<Response> =>
    withApiHeaders(await answer(req), { secure: getDeps().secureCookies });
}
