import { defineConnectionType } from "@sluice/pipeline/connection-definition";
import { z } from "zod";

// An HTTP endpoint the HTTP sink sends to: base URL, an authentication header kept secret, other headers. Browser-safe.

export const HeaderName = z
  .string()
  .regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$/, "a header name: letters, digits and - only");

const config = z
  .strictObject({
    baseUrl: z
      .url({ protocol: /^https?$/, error: "an http:// or https:// URL" })
      .max(2048)
      .refine((u) => {
        const parsed = new URL(u);
        return parsed.username === "" && parsed.password === "";
      }, "put credentials in the authentication header, not in the URL")
      .meta({ label: "Base URL", placeholder: "https://hooks.example.com/sluice" }),
    authHeader: HeaderName.default("Authorization").meta({
      label: "Authentication header",
      help: "The header that carries the credential.",
      advanced: true,
    }),
    authValue: z.string().max(8192).optional().meta({
      label: "Authentication value",
      help: 'The whole header value, e.g. "Bearer eyJ…" or "Basic dXNlcjpwYXNz".',
      secret: true,
    }),
    headers: z.record(HeaderName, z.string().max(8192)).default({}).meta({
      label: "Other headers",
      help: "Sent with every request (not secret: shown in the form and in exports).",
      widget: "key-value",
      advanced: true,
    }),
    tlsVerify: z.boolean().default(true).meta({
      label: "Check the server's certificate",
      help: "Off only for test servers with self-signed certificates.",
      advanced: true,
    }),
    ca: z.string().max(65_536).optional().meta({
      label: "CA certificate (PEM)",
      help: "The certificate authority of a server whose certificate is not signed by a public one.",
      widget: "textarea",
      advanced: true,
    }),
  })
  .superRefine((c, ctx) => {
    const lower = c.authHeader.toLowerCase();
    for (const name of Object.keys(c.headers)) {
      if (name.toLowerCase() === lower && c.authValue !== undefined) {
        ctx.addIssue({ code: "custom", path: ["headers", name], message: `"${name}" is the authentication header` });
      }
    }
  });

export type HttpConnectionConfig = z.output<typeof config>;

export const httpConnection = defineConnectionType({
  type: "http",
  title: "HTTP endpoint",
  icon: "globe",
  summary: "A web service that receives records over HTTP, for the HTTP sink.",
  docs: `A base URL that the HTTP sink sends its requests to (each sink adds its own path), with the credential it needs
in an authentication header (\`Authorization\` by default, or e.g. \`X-Api-Key\`). The credential is a secret: it is
stored encrypted and never shown again, exported or logged. Credentials in the URL itself are refused.

*Test connection* sends \`GET <base URL>\` with the headers: any answer but 401/403 means the service is
reachable and accepts the credential (many receivers answer a GET with 404 or 405, which is fine); it says when the
host is unreachable, the TLS certificate is not trusted, or the credential is refused.`,
  config,
  examples: [
    {
      title: "A receiver with a bearer token",
      config: { baseUrl: "https://ingest.example.com/v1", authValue: "Bearer …" },
    },
    {
      title: "An API key header",
      config: { baseUrl: "https://api.example.com", authHeader: "X-Api-Key", authValue: "…" },
    },
  ],
});
