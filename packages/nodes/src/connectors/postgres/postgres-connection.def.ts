import { defineConnectionType } from "@sluice/pipeline/connection-definition";
import { z } from "zod";

// A PostgreSQL server and database, as the PostgreSQL source, CDC source, sink and lookup reach it. Browser-safe.

const config = z
  .strictObject({
    host: z
      .string()
      .trim()
      .min(1, "name the server's host")
      .max(255)
      .meta({
        label: "Host",
        placeholder: "db.internal",
        examples: ["127.0.0.1", "warehouse.example.com"],
      }),
    port: z.number().int().min(1).max(65_535).default(5432).meta({ label: "Port" }),
    database: z
      .string()
      .trim()
      .min(1, "name the database")
      .max(63, "PostgreSQL database names are at most 63 characters")
      .meta({ label: "Database", placeholder: "warehouse" }),
    user: z.string().min(1, "name the user").max(63, "PostgreSQL user names are at most 63 characters").meta({
      label: "User",
    }),
    password: z.string().max(1024).optional().meta({ label: "Password", secret: true }),
    sslmode: z.enum(["disable", "require", "verify-full"]).default("disable").meta({
      label: "TLS (sslmode)",
      help: '"require" encrypts without checking the certificate; "verify-full" also checks it against the CA and the host name.',
      widget: "select",
    }),
    ca: z.string().max(65_536).optional().meta({
      label: "CA certificate (PEM)",
      help: 'With "verify-full": the authority that signed the server\'s certificate, when it is not a public one.',
      widget: "textarea",
      advanced: true,
      secret: false,
    }),
    applicationName: z
      .string()
      .max(63)
      .default("sluice")
      .meta({ label: "Application name", help: "Shown in pg_stat_activity.", advanced: true }),
    connectTimeout: z.number().int().min(1).max(300).default(10).meta({
      label: "Connect timeout (s)",
      help: "How long to wait for the server to answer before giving up.",
      advanced: true,
    }),
  })
  .superRefine((c, ctx) => {
    if (c.ca !== undefined && c.sslmode !== "verify-full") {
      ctx.addIssue({
        code: "custom",
        path: ["ca"],
        message: 'a CA certificate is only used with sslmode "verify-full"',
      });
    }
  });

export type PostgresConnectionConfig = z.output<typeof config>;

export const postgresConnection = defineConnectionType({
  type: "postgres",
  title: "PostgreSQL",
  icon: "database",
  summary: "A PostgreSQL server and database, for the PostgreSQL sources, sink and lookup.",
  docs: `Connects to one database on a PostgreSQL server (11 or later). What the user needs depends on the nodes:

- **source.postgres** and **transform.lookup**: \`SELECT\` on the tables they read.
- **source.postgres-cdc**: the \`REPLICATION\` attribute (\`ALTER ROLE … REPLICATION\`), \`SELECT\` on the captured
  tables, and ownership of them if Sluice is to create the publication; the server needs \`wal_level = logical\`.
- **sink.postgres**: \`INSERT\` (and \`UPDATE\`/\`DELETE\` for upsert and CDC modes) on its table, \`CREATE\` on the
  schema to create the table or its progress table \`sluice_sink_offsets\`.

Sessions run with \`TimeZone = UTC\` and \`DateStyle = ISO\`, so timestamps read and written are exact whatever the
server's defaults.

*Test connection* connects, asks for the server version, and says in words what went wrong when it cannot: the
host cannot be reached, the password or user is refused, the database does not exist, or TLS failed. It also
reports whether the server is set up for change data capture. *Discover* lists the database's tables and views with
their columns (as Sluice types) and approximate row counts, and samples a few rows of one.`,
  config,
  examples: [
    { title: "Local server", config: { host: "127.0.0.1", database: "warehouse", user: "sluice", password: "…" } },
    {
      title: "Managed server over verified TLS",
      config: {
        host: "warehouse.example.com",
        database: "analytics",
        user: "sluice",
        password: "…",
        sslmode: "verify-full",
      },
    },
  ],
});
