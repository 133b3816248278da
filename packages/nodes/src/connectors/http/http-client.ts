import type { LookupAddress } from "node:dns";
import http from "node:http";
import https from "node:https";
import type { ConnectionProblem } from "../../connection-runtime";
import type { ConnectionDestinations, Destination } from "../../destination-policy";
import type { HttpConnectionConfig } from "./http-connection.def";

// One HTTP request with a deadline, over keep-alive agents per connection (node:http, so TLS options apply), and
// the vocabulary for what went wrong. Server-only.

export interface HttpAnswer {
  status: number;
  statusText: string;
  headers: http.IncomingHttpHeaders;
  /** The first bytes of the body, for error messages. */
  excerpt: string;
}

export class HttpTransportError extends Error {
  override name = "HttpTransportError";
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

const EXCERPT_BYTES = 2048;

export interface HttpTarget {
  agent: http.Agent;
  config: HttpConnectionConfig;
  /** Every request's host is resolved and checked here first (see destination-policy.ts). */
  destinations: ConnectionDestinations;
}

export function httpTarget(config: HttpConnectionConfig, destinations: ConnectionDestinations): HttpTarget {
  const secure = config.baseUrl.startsWith("https:");
  const agent = secure
    ? new https.Agent({
        keepAlive: true,
        rejectUnauthorized: config.tlsVerify,
        ...(config.ca !== undefined ? { ca: config.ca } : {}),
      })
    : new http.Agent({ keepAlive: true });
  return { agent, config, destinations };
}

/** A DNS lookup that answers with the one address already checked, so the socket goes nowhere else. */
function checkedLookup(to: Destination) {
  return (
    _host: string,
    options: { all?: boolean },
    callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
  ) => {
    if (options.all) callback(null, [{ address: to.address, family: to.family }]);
    else callback(null, to.address, to.family);
  };
}

/** The base URL with `path` appended (a path starting with "/" replaces nothing: it is appended too). */
export function targetUrl(baseUrl: string, path: string): URL {
  if (path === "") return new URL(baseUrl);
  const base = baseUrl.endsWith("/") ? baseUrl.slice(0, -1) : baseUrl;
  return new URL(base + (path.startsWith("/") ? path : `/${path}`));
}

export function requestHeaders(config: HttpConnectionConfig, extra: Record<string, string>): Record<string, string> {
  return {
    "user-agent": "sluice",
    ...config.headers,
    ...extra,
    ...(config.authValue !== undefined ? { [config.authHeader]: config.authValue } : {}),
  };
}

/**
 * One request. The host is resolved and checked first (a refusal rejects with DestinationRefusedError, before any
 * socket); a new socket goes to the checked address, the URL's host stays the Host header and TLS server name.
 */
export async function send(
  target: HttpTarget,
  url: URL,
  options: { method: string; headers: Record<string, string>; body?: Buffer; timeoutMs: number },
): Promise<HttpAnswer> {
  const secure = url.protocol === "https:";
  const port = url.port !== "" ? Number(url.port) : secure ? 443 : 80;
  let to: Destination;
  try {
    to = await target.destinations.resolve(url.hostname, port);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === undefined) throw err;
    throw new HttpTransportError(`${url.host}: ${e.message}`, e.code);
  }
  return new Promise((resolve, reject) => {
    const mod = secure ? https : http;
    const req = mod.request(
      url,
      {
        method: options.method,
        agent: target.agent,
        lookup: checkedLookup(to) as unknown as http.RequestOptions["lookup"],
        headers: {
          ...options.headers,
          ...(options.body ? { "content-length": String(options.body.length) } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (chunk: Buffer) => {
          if (size < EXCERPT_BYTES) chunks.push(chunk);
          size += chunk.length;
        });
        res.on("end", () => {
          clearTimeout(timer);
          resolve({
            status: res.statusCode ?? 0,
            statusText: res.statusMessage ?? "",
            headers: res.headers,
            excerpt: Buffer.concat(chunks).toString("utf8").slice(0, EXCERPT_BYTES),
          });
        });
        res.on("error", (err) => {
          clearTimeout(timer);
          reject(new HttpTransportError(`the answer from ${url.host} broke off: ${err.message}`, undefined));
        });
      },
    );
    const timer = setTimeout(() => {
      req.destroy(new HttpTransportError(`no answer from ${url.host} within ${options.timeoutMs} ms`, "ETIMEDOUT"));
    }, options.timeoutMs);
    req.on("error", (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(err instanceof HttpTransportError ? err : new HttpTransportError(`${url.host}: ${err.message}`, err.code));
    });
    req.end(options.body);
  });
}

const UNREACHABLE = new Set(["ECONNREFUSED", "ENOTFOUND", "EHOSTUNREACH", "ENETUNREACH", "EAI_AGAIN", "ECONNRESET"]);

export function transportProblem(err: HttpTransportError): ConnectionProblem {
  if (err.code === "ETIMEDOUT") return "timeout";
  if (err.code !== undefined && UNREACHABLE.has(err.code)) return "host-unreachable";
  if (err.code !== undefined && /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_VERIFY/.test(err.code)) return "tls";
  return "other";
}

/** Seconds or an HTTP date in Retry-After, as milliseconds from now; undefined when absent or unreadable. */
export function retryAfterMs(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined || v.trim() === "") return undefined;
  if (/^\d+(\.\d+)?$/.test(v.trim())) return Math.round(Number(v) * 1000);
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

export function statusLine(answer: HttpAnswer): string {
  return `${answer.status}${answer.statusText ? ` ${answer.statusText}` : ""}`;
}

export function excerptOf(answer: HttpAnswer, max = 300): string {
  const text = answer.excerpt.replace(/\s+/g, " ").trim();
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
