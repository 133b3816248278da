import type { ConnectionRuntime } from "../../connection-runtime";
import { failed, refusedDestination } from "../messaging/connection-problems";
import {
  excerptOf,
  HttpTransportError,
  httpTarget,
  requestHeaders,
  send,
  statusLine,
  transportProblem,
} from "./http-client";
import type { HttpConnectionConfig } from "./http-connection.def";

export const httpConnectionRuntime: ConnectionRuntime<HttpConnectionConfig> = {
  type: "http",
  async test(config, signal, destinations) {
    const target = httpTarget(config, destinations);
    const url = new URL(config.baseUrl);
    try {
      const answer = await Promise.race([
        send(target, url, { method: "GET", headers: requestHeaders(config, {}), timeoutMs: 10_000 }),
        new Promise<never>((_, reject) =>
          signal.addEventListener("abort", () => reject(signal.reason), { once: true }),
        ),
      ]);
      if (answer.status === 401 || answer.status === 403) {
        return {
          ok: false,
          problem: "auth-failed",
          message: `${url.host} refused the credential (${statusLine(answer)})${answer.excerpt ? `: ${excerptOf(answer, 200)}` : ""}`,
        };
      }
      if (answer.status >= 500) {
        return { ok: false, problem: "other", message: `${url.host} answered ${statusLine(answer)}` };
      }
      return { ok: true, message: `${url.host} answered GET ${url.pathname} with ${statusLine(answer)}` };
    } catch (err) {
      const refused = refusedDestination(err);
      if (refused) return failed(refused);
      if (err instanceof HttpTransportError) return { ok: false, problem: transportProblem(err), message: err.message };
      return { ok: false, problem: "other", message: err instanceof Error ? err.message : String(err) };
    } finally {
      target.agent.destroy();
    }
  },
};
