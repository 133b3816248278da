import type { ConnectionRuntime } from "../../connection-runtime";
import { failed, networkProblem, refusedDestination } from "../messaging/connection-problems";
import type { WebhookConnectionConfig } from "./webhook-connection.def";

export const webhookConnectionRuntime: ConnectionRuntime<WebhookConnectionConfig> = {
  type: "webhook",
  // Posting would put a message in the channel: the test only resolves the host through the destination policy.
  async test(config, signal, destinations) {
    const url = new URL(config.url);
    const port = url.port ? Number(url.port) : url.protocol === "https:" ? 443 : 80;
    try {
      const to = await Promise.race([
        destinations.resolve(url.hostname.replace(/^\[|\]$/g, ""), port),
        new Promise<never>((_, reject) =>
          signal.addEventListener("abort", () => reject(signal.reason), { once: true }),
        ),
      ]);
      return { ok: true, message: `${url.host} resolves to ${to.address} and may be sent to (nothing was posted)` };
    } catch (err) {
      const refused = refusedDestination(err);
      if (refused) return failed(refused);
      const network = networkProblem(err, url.host);
      if (network) return failed(network);
      return { ok: false, problem: "other", message: err instanceof Error ? err.message : String(err) };
    }
  },
};
