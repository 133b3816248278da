import path from "node:path";
import type { NextConfig } from "next";
import { BASE_HEADERS } from "./src/server/security-headers";

const monorepoRoot = path.join(import.meta.dirname, "../..");

const nextConfig: NextConfig = {
  // Workspace packages export TypeScript source (`"exports": { "./*": "./src/*.ts" }`): Next compiles them.
  transpilePackages: ["@sluice/api", "@sluice/pipeline", "@sluice/nodes", "@sluice/db", "@sluice/log"],
  // Node-only drivers stay plain `require`s on the server: bullmq reads its Lua scripts from disk, pg and ioredis
  // open sockets, Prisma's runtime loads its own wasm.
  serverExternalPackages: [
    "bullmq",
    "ioredis",
    "rate-limiter-flexible",
    "pg",
    "@prisma/client",
    "@prisma/adapter-pg",
    "@prisma/driver-adapter-utils",
    // The query page's files engine: a native addon, loaded by Node as it is.
    "@duckdb/node-api",
    "@duckdb/node-bindings",
  ],
  turbopack: { root: monorepoRoot },
  outputFileTracingRoot: monorepoRoot,
  poweredByHeader: false,
  // proxy.ts runs for pages only, and no page reads a request body: Next keeps at most this much of one for the proxy
  // (instead of 10 MB). API bodies never pass the proxy; their limits are in their handlers.
  experimental: { proxyClientMaxBodySize: "256kb" },
  // Headers that never change, on every path: pages, API routes, static files and Next's own error pages. The
  // Content-Security-Policy (a nonce per page view) and HSTS (only over HTTPS) are set at request time: proxy.ts for
  // pages, the route handlers for the API.
  async headers() {
    return [{ source: "/:path*", headers: Object.entries(BASE_HEADERS).map(([key, value]) => ({ key, value })) }];
  },
  reactStrictMode: true,
  // `npm start` and the e2e set-up build without type-checking (about a minute on 2 cores): `npm test`'s typecheck
  // layer and `npm run typecheck` check the same sources, and types do not change what is built.
  typescript: { ignoreBuildErrors: process.env.SLUICE_BUILD_TYPECHECK === "off" },
};

export default nextConfig;
