import http from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import { createRequestContext } from "@sluice/api/context";
import { appRouter } from "@sluice/api/root";
import type { ApiHarness } from "@sluice/test-kit/api-harness";
import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import type { Output } from "../src/io";
import { main } from "../src/main";

// The commands that talk to a Sluice server, from a test: the real tRPC API served over HTTP on loopback (the router
// and request context the web app's /api/trpc route uses), and the `sluice` command's main function calling it.

export interface ServedApi {
  /** http://127.0.0.1:PORT, what `sluice login --url` and SLUICE_URL take. */
  base: string;
  close(): Promise<void>;
}

export async function serveApi(h: ApiHarness): Promise<ServedApi> {
  const server = http.createServer((req, res) => {
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) if (typeof value === "string") headers.set(name, value);
    const hasBody = req.method !== "GET" && req.method !== "HEAD";
    const request = new Request(`http://${req.headers.host}${req.url}`, {
      method: req.method,
      headers,
      body: hasBody ? (Readable.toWeb(req) as ReadableStream<Uint8Array>) : undefined,
      duplex: "half",
    } as RequestInit);
    void fetchRequestHandler({
      endpoint: "/api/trpc",
      req: request,
      router: appRouter,
      createContext: ({ req: r, resHeaders }) => createRequestContext(h.deps, r, resHeaders),
    }).then(async (response) => {
      res.writeHead(response.status, Object.fromEntries(response.headers));
      res.end(Buffer.from(await response.arrayBuffer()));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close() {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface CliResult {
  code: number;
  out: string;
  err: string;
}

/** Runs `sluice ARGS` in this process with `env` as its environment; what it printed is also added to `printed`. */
export async function runSluice(
  args: string[],
  env: Record<string, string>,
  printed: string[] = [],
): Promise<CliResult> {
  const out: string[] = [];
  const err: string[] = [];
  const io: Output = { out: (t) => out.push(t), err: (t) => err.push(t) };
  const code = await main(args, io, env);
  printed.push(...out, ...err);
  return { code, out: out.join("\n"), err: err.join("\n") };
}
