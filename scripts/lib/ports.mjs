// Port checks. "In use" means what matters to the caller: something would stop us from listening there.

import net from "node:net";
import { SetupError } from "./log.mjs";
import { sleep } from "./proc.mjs";

/**
 * True when something already listens on `port`: we cannot bind it the way a server would (all
 * interfaces), or a connection to 127.0.0.1 is accepted.
 * @param {number} port
 */
export async function portInUse(port) {
  const bindError = await new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", (/** @type {NodeJS.ErrnoException} */ error) => resolve(error.code ?? "error"));
    server.listen({ port, exclusive: true }, () => server.close(() => resolve(undefined)));
  });
  if (bindError === "EACCES") {
    throw new SetupError(`port ${port} needs special privileges`, "Choose a port above 1023.");
  }
  if (bindError) return true;
  return tcpAnswers("127.0.0.1", port, 500);
}

/** An ephemeral port that is free on 127.0.0.1 right now. */
export function freePort() {
  return /** @type {Promise<number>} */ (
    new Promise((resolve, reject) => {
      const server = net.createServer();
      server.once("error", reject);
      server.listen({ port: 0, host: "127.0.0.1" }, () => {
        const address = server.address();
        const port = typeof address === "object" && address ? address.port : 0;
        server.close(() => resolve(port));
      });
    })
  );
}

/** True when a TCP connection to host:port is accepted within `timeoutMs`. */
export function tcpAnswers(/** @type {string} */ host, /** @type {number} */ port, timeoutMs = 1000) {
  return /** @type {Promise<boolean>} */ (
    new Promise((resolve) => {
      const socket = net.connect({ host, port });
      const done = (/** @type {boolean} */ ok) => {
        socket.destroy();
        resolve(ok);
      };
      socket.setTimeout(timeoutMs, () => done(false));
      socket.once("connect", () => done(true));
      socket.once("error", () => done(false));
    })
  );
}

/**
 * Polls `check` until it returns a truthy value or `timeoutMs` passes; returns the last value.
 * @template T
 * @param {() => Promise<T>} check
 * @param {{ timeoutMs: number, intervalMs?: number, stopIf?: () => boolean }} options
 * @returns {Promise<T | undefined>}
 */
export async function waitFor(check, { timeoutMs, intervalMs = 250, stopIf }) {
  const deadline = Date.now() + timeoutMs;
  let value;
  for (;;) {
    value = await check();
    if (value) return value;
    if (Date.now() >= deadline || stopIf?.()) return value;
    await sleep(intervalMs);
  }
}

/** Reads a port number from an environment variable. */
export function portFromEnv(/** @type {string} */ name, /** @type {number} */ fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65_535) {
    throw new SetupError(`${name}=${raw} is not a port number`, `Set ${name} to a number between 1024 and 65535.`);
  }
  return port;
}

/**
 * The address the web app listens on: `HOST` (a host name or an IPv4/IPv6 address; `0.0.0.0` or `::` for every
 * interface) or 127.0.0.1, so that a fresh `npm start` is not reachable from the network until asked to be.
 * @param {string} [raw] the variable's value
 */
export function listenHost(raw = process.env.HOST) {
  if (raw === undefined || raw.trim() === "") return "127.0.0.1";
  const host = raw.trim().replace(/^\[(.*)\]$/, "$1");
  if (net.isIP(host)) return host;
  const label = /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$/;
  if (host.length <= 253 && host.split(".").every((part) => label.test(part))) return host;
  throw new SetupError(
    `HOST=${raw} is neither a host name nor an IP address`,
    "Set HOST to an address of this machine (e.g. 127.0.0.1, or 0.0.0.0 to listen on every interface), or unset it.",
  );
}

/**
 * The URL at which this machine reaches a server listening on `host`:`port` (a wildcard address is reached on
 * loopback).
 * @param {string} host @param {number} port
 */
export function localUrl(host, port) {
  if (host === "0.0.0.0") return `http://127.0.0.1:${port}`;
  if (host === "::") return `http://[::1]:${port}`;
  return `http://${net.isIPv6(host) ? `[${host}]` : host}:${port}`;
}
