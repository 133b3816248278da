import { defineConnectionType } from "@sluice/pipeline/connection-definition";
import { z } from "zod";

// A Redis server, for the Redis Streams source and sink. Browser-safe.

export interface RedisEndpoint {
  host: string;
  port: number;
  db: number;
  tls: boolean;
}

/** Host, port, database and TLS from a `redis://` or `rediss://` URL; a message when it is not one. */
export function parseRedisUrl(url: string): RedisEndpoint | string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return "write a URL like redis://host:6379/0 (rediss:// for TLS)";
  }
  if (u.protocol !== "redis:" && u.protocol !== "rediss:")
    return `the URL starts with ${u.protocol}//; use redis:// or rediss://`;
  if (u.password !== "" || u.username !== "")
    return "put the user name and password in their own fields, not in the URL";
  if (u.hostname === "") return "the URL names no host";
  const path = u.pathname.replace(/^\//, "");
  if (path !== "" && !/^\d{1,5}$/.test(path)) return `"/${path}" is not a database number`;
  if (u.search !== "" || u.hash !== "") return "the URL takes no query or fragment";
  return {
    host: u.hostname.replace(/^\[(.*)\]$/, "$1"),
    port: u.port === "" ? 6379 : Number(u.port),
    db: path === "" ? 0 : Number(path),
    tls: u.protocol === "rediss:",
  };
}

const config = z
  .strictObject({
    url: z.string().min(1).max(2000).default("redis://127.0.0.1:6379/0").meta({
      label: "URL",
      help: "redis://host:port/database — rediss:// connects with TLS.",
      placeholder: "redis://cache.internal:6379/0",
    }),
    username: z
      .string()
      .min(1)
      .max(256)
      .optional()
      .meta({ label: "User", help: "An ACL user (Redis 6+). Empty: the default user." }),
    password: z.string().min(1).max(4096).optional().meta({ label: "Password", secret: true }),
    tls: z.boolean().default(false).meta({ label: "TLS", help: "Connect with TLS (also implied by a rediss:// URL)." }),
    tlsVerify: z.boolean().default(true).meta({
      label: "Verify the server's certificate",
      help: "Off accepts any certificate: only for testing.",
      advanced: true,
    }),
  })
  .superRefine((c, ctx) => {
    const parsed = parseRedisUrl(c.url);
    if (typeof parsed === "string") ctx.addIssue({ code: "custom", path: ["url"], message: parsed });
  });

export type RedisConnectionConfig = z.output<typeof config>;

export const redisConnectionDef = defineConnectionType({
  type: "redis",
  title: "Redis",
  icon: "database",
  summary: "A Redis server (or a managed Redis such as ElastiCache or Upstash), for Redis Streams.",
  docs: `Connects to one Redis server (Redis 5 or newer, for streams). The password is kept secret: it is stored
encrypted and never shown again. With an ACL user, give it \`+xread +xrange +xinfo +xgroup +type +scan +xlen\` for
reading and \`+xadd +xtrim +hget +hset +pexpire +evalsha +eval\` for writing, on the keys concerned.

**Test** connects, authenticates and reports the server's version. **Discovery** lists the stream keys (by SCAN, up
to 1,000) with their lengths, and samples a stream's newest entries.`,
  config,
  examples: [
    { title: "Local Redis", config: { url: "redis://127.0.0.1:6379/0" } },
    {
      title: "Managed Redis with TLS and an ACL user",
      config: { url: "rediss://redis.example.com:6380/0", username: "sluice", password: "…" },
    },
  ],
});
