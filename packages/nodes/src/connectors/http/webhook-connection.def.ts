import { defineConnectionType } from "@sluice/pipeline/connection-definition";
import { z } from "zod";

// An incoming-webhook address that alert rules post to. The whole URL is the secret: services such as Slack put the
// token in its path, so it is sealed at rest and never shown, exported or logged. Browser-safe.

const config = z.strictObject({
  url: z
    .url({ protocol: /^https?$/, error: "an http:// or https:// URL" })
    .max(2048)
    .meta({
      label: "Webhook URL",
      help: "The address alerts are POSTed to as Slack-compatible JSON, e.g. a Slack incoming webhook.",
      placeholder: "https://hooks.slack.com/services/…",
      secret: true,
    }),
});

export type WebhookConnectionConfig = z.output<typeof config>;

export const webhookConnection = defineConnectionType({
  type: "webhook",
  title: "Alert webhook",
  icon: "globe",
  summary: "An incoming-webhook address (Slack or compatible) that alert rules post to.",
  docs: `The address an alert rule posts its firings and recoveries to, as Slack-compatible JSON. The whole URL is a
secret, since incoming-webhook URLs carry their token: it is stored encrypted and never shown again, exported or
logged.

*Test connection* sends nothing: it resolves the host and checks it against the destination policy, so a test never
posts a message to the channel.`,
  config,
  examples: [{ title: "A Slack incoming webhook", config: { url: "https://hooks.slack.com/services/…" } }],
});
