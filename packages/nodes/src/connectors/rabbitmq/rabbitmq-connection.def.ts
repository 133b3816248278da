import { defineConnectionType } from "@sluice/pipeline/connection-definition";
import { z } from "zod";

// A RabbitMQ broker (AMQP 0-9-1), for the RabbitMQ source and sink. Browser-safe.

export interface AmqpEndpoint {
  tls: boolean;
  host: string;
  port: number;
  vhost: string;
}

/** Host, port, virtual host and TLS from an `amqp://` or `amqps://` URL; a message when it is not one. */
export function parseAmqpUrl(url: string): AmqpEndpoint | string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return "write a URL like amqp://host:5672/vhost (amqps:// for TLS)";
  }
  if (u.protocol !== "amqp:" && u.protocol !== "amqps:")
    return `the URL starts with ${u.protocol}//; use amqp:// or amqps://`;
  if (u.username !== "" || u.password !== "")
    return "put the user name and password in their own fields, not in the URL";
  if (u.hostname === "") return "the URL names no host";
  if (u.search !== "" || u.hash !== "") return "the URL takes no query or fragment";
  const path = u.pathname.replace(/^\//, "");
  if (path.includes("/")) return 'a virtual host named with "/" inside is written %2F';
  const tls = u.protocol === "amqps:";
  return {
    tls,
    host: u.hostname.replace(/^\[(.*)\]$/, "$1"),
    port: u.port === "" ? (tls ? 5671 : 5672) : Number(u.port),
    // RabbitMQ's default virtual host is "/": an empty path means it.
    vhost: path === "" ? "/" : decodeURIComponent(path),
  };
}

const config = z
  .strictObject({
    url: z.string().min(1).max(2000).default("amqp://127.0.0.1:5672/").meta({
      label: "URL",
      help: "amqp://host:5672/vhost — amqps:// connects with TLS; no path means the default virtual host /.",
      placeholder: "amqp://rabbit.internal:5672/orders",
    }),
    username: z.string().min(1).max(1024).default("guest").meta({ label: "User" }),
    password: z.string().min(1).max(4096).optional().meta({ label: "Password", secret: true }),
    heartbeat: z.number().int().min(0).max(600).default(30).meta({
      label: "Heartbeat (s)",
      help: "How often client and broker check the connection is alive; 0 turns the check off.",
      advanced: true,
    }),
    tlsVerify: z.boolean().default(true).meta({
      label: "Verify the broker's certificate",
      help: "Off accepts any certificate: only for testing.",
      advanced: true,
    }),
  })
  .superRefine((c, ctx) => {
    const parsed = parseAmqpUrl(c.url);
    if (typeof parsed === "string") ctx.addIssue({ code: "custom", path: ["url"], message: parsed });
  });

export type RabbitmqConnectionConfig = z.output<typeof config>;

export const rabbitmqConnectionDef = defineConnectionType({
  type: "rabbitmq",
  title: "RabbitMQ",
  icon: "rabbit",
  summary: "A RabbitMQ broker (AMQP 0-9-1): queues to consume, exchanges to publish to.",
  docs: `Connects to a RabbitMQ broker over AMQP 0-9-1 with a user name and password (kept secret). RabbitMQ lets the
built-in \`guest\` user in only from the broker's own machine.

**Test** connects, authenticates, opens the virtual host and reports the broker's version. **Discovery** cannot list
queues over AMQP (that needs the management plugin's HTTP API): ask for a queue by name to see its message count and
a few sample messages. Sampling takes messages and puts them back (\`nack\` with requeue), so they are delivered
again, flagged as redelivered, possibly in another order.`,
  config,
  examples: [
    {
      title: "Local broker, default virtual host",
      config: { url: "amqp://127.0.0.1:5672/", username: "guest", password: "guest" },
    },
    {
      title: "A virtual host over TLS",
      config: { url: "amqps://rabbit.example.com/orders", username: "sluice", password: "…" },
    },
  ],
});
