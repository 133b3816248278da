import path from "node:path";
import type { NextConfig } from "next";

const monorepoRoot = path.join(import.meta.dirname, "../..");

const nextConfig: NextConfig = {
  // Workspace packages export TypeScript source (`"exports": { "./*": "./src/*.ts" }`): Next compiles them.
  transpilePackages: ["@sluice/api", "@sluice/pipeline", "@sluice/nodes", "@sluice/db"],
  // Node-only drivers stay plain `require`s on the server: bullmq reads its Lua scripts from disk, pg and ioredis
  // open sockets, Prisma's runtime loads its own wasm.
  serverExternalPackages: [
    "bullmq",
    "ioredis",
    "pg",
    "@prisma/client",
    "@prisma/adapter-pg",
    "@prisma/driver-adapter-utils",
  ],
  turbopack: { root: monorepoRoot },
  outputFileTracingRoot: monorepoRoot,
  poweredByHeader: false,
  reactStrictMode: true,
};

export default nextConfig;
