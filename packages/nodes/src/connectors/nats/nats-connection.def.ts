import { defineConnectionType } from "@sluice/pipeline/connection-definition";
import { z } from "zod";

// A NATS server or cluster with JetStream, for the NATS JetStream source and sink. Browser-safe.

const ServerUrl = z
  .string()
  .min(1)
  .max(2000)
  .regex(/^((nats|tls):\/\/)?[^\s/@]+(:\d{1,5})?$/, "write a server as nats://host:4222 (tls://host:4222 for TLS)");

const config = z
  .strictObject({
    servers: z
      .union([ServerUrl, z.array(ServerUrl).min(1).max(64)])
      .default("nats://127.0.0.1:4222")
      .meta({
        label: "Servers",
        help: "One server URL, or several of one cluster: nats://host:4222 (tls://… for TLS).",
        placeholder: "nats://nats.internal:4222",
      }),
    user: z.string().min(1).max(1024).optional().meta({ label: "User" }),
    password: z.string().min(1).max(4096).optional().meta({ label: "Password", secret: true }),
    token: z
      .string()
      .min(1)
      .max(4096)
      .optional()
      .meta({ label: "Token", help: "Token authentication, instead of a user and password.", secret: true }),
    creds: z.string().min(1).max(65_536).optional().meta({
      label: "Credentials file",
      help: "The text of a .creds file (a user JWT and its NKey seed), for servers run in operator mode.",
      secret: true,
      widget: "textarea",
      advanced: true,
    }),
    tls: z.boolean().default(false).meta({ label: "TLS", help: "Require TLS (also implied by tls:// server URLs)." }),
    ca: z.string().min(1).max(65_536).optional().meta({
      label: "CA certificate",
      help: "PEM text of the certificate authority that signed the servers' certificates, when it is not a public one.",
      widget: "textarea",
      advanced: true,
    }),
  })
  .superRefine((c, ctx) => {
    if (c.password !== undefined && c.user === undefined) {
      ctx.addIssue({ code: "custom", path: ["user"], message: "a password needs a user" });
    }
    const ways = [c.user !== undefined, c.token !== undefined, c.creds !== undefined].filter(Boolean).length;
    if (ways > 1) {
      ctx.addIssue({
        code: "custom",
        path: ["token"],
        message: "use one way to authenticate: a user and password, a token, or a credentials file",
      });
    }
  });

export type NatsConnectionConfig = z.output<typeof config>;

export function natsServers(c: { servers: string | string[] }): string[] {
  return Array.isArray(c.servers) ? c.servers : [c.servers];
}

export const natsConnectionDef = defineConnectionType({
  type: "nats",
  title: "NATS",
  icon: "radio",
  summary: "A NATS server or cluster with JetStream, for streams of messages.",
  docs: `Connects to NATS (2.9 or newer) with JetStream enabled for the account. Authenticate with a user and
password, a token, or a credentials file (operator mode); all three are kept secret.

**Test** connects, authenticates and checks that JetStream answers for the account (it reports the number of
streams and consumers). **Discovery** lists the streams with their subjects and message counts, and samples a
stream's newest messages.`,
  config,
  examples: [
    { title: "Local server", config: { servers: "nats://127.0.0.1:4222" } },
    {
      title: "A cluster with a user and password",
      config: {
        servers: ["nats://nats-1.internal:4222", "nats://nats-2.internal:4222", "nats://nats-3.internal:4222"],
        user: "sluice",
        password: "…",
      },
    },
  ],
});
