import type { Db } from "@sluice/db/client";
import { httpTarget, send } from "@sluice/nodes/connectors/http/http-client";
import type { DestinationPolicy } from "@sluice/nodes/destination-policy";
import type { SecretKeys } from "@sluice/pipeline/control/secret-box";
import { openSecrets } from "../connections/connection-secrets";

// Delivers one alert transition to a rule's webhook: a Slack-compatible JSON body ({ text } plus structured fields),
// through the destination policy (the HTTP sink's client resolves and checks the host first), with a timeout and a
// few attempts. It never throws: the caller records the failure on the alert. The URL is not logged or stored in
// the failure, since webhook URLs (Slack's among them) carry their token in the path; for the same reason a rule
// names a webhook connection, whose sealed URL is opened here, server-side, just before sending.

export interface AlertNotice {
  text: string;
  state: "firing" | "recovered";
  severity: string;
  pipeline: string;
  pipelineId: string;
  runId: string;
  rule: string;
  node: string | null;
  value: number | null;
  at: string;
}

/** The URL of the workspace's webhook connection `name`, or a sentence saying why there is none to send to. */
export async function webhookConnectionUrl(
  db: Db,
  secretKey: SecretKeys | undefined,
  workspaceId: string,
  name: string,
): Promise<{ url: string } | { failure: string }> {
  const row = await db.connection.findUnique({ where: { workspaceId_name: { workspaceId, name } } });
  if (!row) return { failure: `The webhook connection “${name}” does not exist any more.` };
  if (row.type !== "webhook") {
    return { failure: `The connection “${name}” is a ${row.type} connection, not a webhook connection.` };
  }
  try {
    const url = (await openSecrets(secretKey, row)).url;
    if (typeof url !== "string") return { failure: `The webhook connection “${name}” has no URL: set it again.` };
    return { url };
  } catch (err) {
    return { failure: `The webhook connection “${name}” cannot be opened: ${(err as Error).message}.` };
  }
}

export interface WebhookOptions {
  destinations: DestinationPolicy;
  timeoutMs?: number;
  attempts?: number;
  /** Wait before attempt n (1-based, from the second), ms. */
  backoffMs?: (attempt: number) => number;
}

/** Posts `notice`; undefined when delivered, else why the last attempt failed. */
export async function postAlertWebhook(
  url: string,
  notice: AlertNotice,
  o: WebhookOptions,
): Promise<string | undefined> {
  return (await postWebhook(url, notice, `alert webhook of rule "${notice.rule}"`, o)).failure;
}

export interface WebhookAnswer {
  /** The last attempt's HTTP status; null when none answered. */
  status: number | null;
  /** Why the last attempt failed; undefined when delivered. Never holds the URL. */
  failure?: string;
}

/**
 * Posts `body` as JSON to `url` with the alert webhooks' timeout, attempts and policy; `purpose` names the sender to
 * the destination policy ("report webhook of …"). Never throws.
 */
export async function postWebhook(
  url: string,
  body: object,
  purpose: string,
  o: WebhookOptions & { userAgent?: string },
): Promise<WebhookAnswer> {
  const target = httpTarget(
    { baseUrl: url, authHeader: "Authorization", headers: {}, tlsVerify: true },
    o.destinations.for(purpose),
  );
  const payload = Buffer.from(JSON.stringify(body));
  const attempts = o.attempts ?? 3;
  let failure = "";
  let status: number | null = null;
  let made = 0;
  try {
    for (let attempt = 1; attempt <= attempts; attempt++) {
      made = attempt;
      if (attempt > 1) await new Promise((r) => setTimeout(r, o.backoffMs?.(attempt) ?? 500 * 2 ** (attempt - 2)));
      try {
        const answer = await send(target, new URL(url), {
          method: "POST",
          headers: { "content-type": "application/json", "user-agent": o.userAgent ?? "sluice-alerts" },
          body: payload,
          timeoutMs: o.timeoutMs ?? 5000,
        });
        status = answer.status;
        if (answer.status >= 200 && answer.status < 300) return { status };
        failure = `the webhook answered ${answer.status} ${answer.statusText}`.trim();
        // A client error other than throttling will not change on a retry.
        if (answer.status >= 400 && answer.status < 500 && answer.status !== 429) break;
      } catch (err) {
        status = null;
        failure = `the webhook could not be reached: ${err instanceof Error ? err.message : String(err)}`;
        if (err instanceof Error && err.name === "DestinationRefusedError") break;
      }
    }
  } finally {
    target.agent.destroy();
  }
  return { status, failure: `${failure} (${made === 1 ? "1 attempt" : `${made} attempts`}).` };
}
