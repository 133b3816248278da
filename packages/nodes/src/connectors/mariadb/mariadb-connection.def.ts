import { defineConnectionType } from "@sluice/pipeline/connection-definition";
import { z } from "zod";

// A MariaDB or MySQL server, as the mariadb source and sink reach it. Browser-safe.

const config = z.strictObject({
  host: z
    .string()
    .trim()
    .min(1, "name the server's host")
    .max(255)
    .meta({
      label: "Host",
      placeholder: "db.internal",
      examples: ["127.0.0.1", "mariadb.example.com"],
    }),
  port: z.number().int().min(1).max(65_535).default(3306).meta({ label: "Port" }),
  database: z
    .string()
    .trim()
    .min(1, "name the database")
    .max(64, "MariaDB database names are at most 64 characters")
    .meta({ label: "Database", placeholder: "shop" }),
  user: z.string().min(1, "name the user").max(80).meta({ label: "User" }),
  password: z.string().max(1024).optional().meta({ label: "Password", secret: true }),
  tls: z.enum(["off", "required", "verify"]).default("off").meta({
    label: "TLS",
    help: '"required" encrypts without checking the server\'s certificate; "verify" also checks it against the CA (and the host name).',
    widget: "select",
  }),
  ca: z.string().max(65_536).optional().meta({
    label: "CA certificate (PEM)",
    help: 'With TLS "verify": the certificate authority that signed the server\'s certificate, if it is not a public one.',
    widget: "textarea",
    advanced: true,
  }),
  timezone: z
    .string()
    .regex(/^(Z|[+-]\d{2}:\d{2})$/, 'an offset like "+02:00", or "Z" for UTC')
    .default("Z")
    .meta({
      label: "Time zone of DATETIME values",
      help: "DATETIME columns carry no zone: this is the offset they are read and written in. TIMESTAMP columns are exact either way.",
      advanced: true,
    }),
});

export type MariaDbConnectionConfig = z.output<typeof config>;

export const mariadbConnection = defineConnectionType({
  type: "mariadb",
  title: "MariaDB / MySQL",
  icon: "database",
  summary: "A MariaDB or MySQL server and database, for the MariaDB source and sink.",
  docs: `Connects to one database on a MariaDB (10.5 or later) or MySQL (8.0 or later) server. The user needs \`SELECT\` on
the tables a source reads, and \`INSERT\`/\`UPDATE\` (plus \`CREATE\` to create tables) on those a sink writes; a sink
also keeps its progress in a table \`sluice_sink_offsets\` of the same database, which it creates if it may.

*Test connection* connects, runs \`SELECT VERSION()\` and says whether the host is unreachable, the password is
refused, the database does not exist or TLS failed. *Discover* lists the database's tables with their columns and
approximate row counts, and samples a few rows of one.`,
  config,
  examples: [
    { title: "Local server", config: { host: "127.0.0.1", database: "shop", user: "sluice", password: "…" } },
    {
      title: "Managed server over verified TLS",
      config: { host: "shop.db.example.com", database: "shop", user: "sluice", password: "…", tls: "verify" },
    },
  ],
});
