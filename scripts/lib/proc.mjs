// Child processes for the orchestration: each runs in its own process group so that Ctrl-C in the
// terminal reaches only us, and we stop things in order (web and worker before the databases), and so
// that stopping a child also stops whatever it spawned (next, tsx watch, vitest forks).

import { spawn, spawnSync } from "node:child_process";
import { appendFileSync, readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { Interrupted, SetupError } from "./log.mjs";

/** @type {Set<Child>} */
const running = new Set();
let closing = false;
const TAIL_LINES = 80;
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching terminal escape sequences is the point
const ANSI = /\x1b\[[0-9;?]*[A-Za-z]/g;

/**
 * @typedef {{ code: number | null, signal: NodeJS.Signals | null, error?: Error }} ExitInfo
 * @typedef {object} ChildOptions
 * @property {string} [cwd]
 * @property {NodeJS.ProcessEnv} [env]
 * @property {"inherit" | "prefix" | "capture" | "file"} [output] inherit: the child writes to our terminal;
 *   prefix: each line is printed as `<prefix> line`; capture: lines are only kept (see `tail`); file: `fd`.
 * @property {string} [prefix]
 * @property {(line: string) => boolean} [show] output "prefix": which lines to print (all by default); the others
 *   are only kept in `tail`
 * @property {number} [fd] file descriptor for output "file"
 * @property {number} [uid]
 * @property {number} [gid]
 * @property {NodeJS.Signals} [stopSignal] what `stop()` sends first (default SIGTERM)
 * @property {boolean} [signalGroup] send stop signals to the whole process group (default true)
 * @property {boolean} [service] a database or broker: stopped last (see stopAll)
 * @property {string} [logFile] where its output goes (output "file"), for messages
 */

/**
 * Appends a child's process id (it leads its own process group) to SLUICE_CHILD_PIDFILE when set. `npm test` sets it
 * for Playwright, whose global set-up starts the e2e stack (a web build, the web app, a worker) detached: when
 * Playwright is killed at its time limit its teardown never runs, and `npm test` stops what the file lists instead.
 * @param {number | undefined} pid
 */
function recordPid(pid) {
  const file = process.env.SLUICE_CHILD_PIDFILE;
  if (file && pid !== undefined) appendFileSync(file, `${pid}\n`);
}

export class Child {
  /** @param {string} name @param {string} command @param {string[]} args @param {ChildOptions} [options] */
  constructor(name, command, args, options = {}) {
    if (closing) throw new Interrupted();
    this.name = name;
    this.command = [command, ...args].join(" ");
    /** @type {string[]} */
    this.tail = [];
    /** @type {ExitInfo | undefined} */
    this.exitInfo = undefined;
    this.stopping = false;
    this.stopSignal = options.stopSignal ?? "SIGTERM";
    this.signalGroup = options.signalGroup ?? true;
    this.isService = options.service ?? false;
    this.logFile = options.logFile;
    const output = options.output ?? "inherit";
    /** @type {import("node:child_process").StdioOptions} */
    const stdio =
      output === "inherit"
        ? ["ignore", "inherit", "inherit"]
        : output === "file"
          ? ["ignore", options.fd ?? "ignore", options.fd ?? "ignore"]
          : ["ignore", "pipe", "pipe"];
    this.process = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio,
      detached: true,
      ...(options.uid === undefined ? {} : { uid: options.uid, gid: options.gid }),
    });
    running.add(this);
    recordPid(this.process.pid);

    /** @type {Promise<ExitInfo>} resolves when the process has exited */
    this.exited = new Promise((resolve) => {
      this.process.once("exit", (code, signal) => {
        this.exitInfo = { code, signal };
        running.delete(this);
        resolve(this.exitInfo);
      });
      this.process.once("error", (error) => {
        // spawn failed (ENOENT, EACCES): there will be no "exit" event.
        this.tail.push(error.message);
        this.exitInfo = { code: 127, signal: null, error };
        running.delete(this);
        resolve(this.exitInfo);
      });
    });

    /** @type {Promise<ExitInfo>} resolves when the process has exited and its output is read */
    this.closed = new Promise((resolve) => {
      this.process.once("close", () => this.exited.then(resolve));
      this.process.once("error", () => this.exited.then(resolve));
    });

    if (output === "prefix" || output === "capture") {
      for (const stream of [this.process.stdout, this.process.stderr]) {
        if (!stream) continue;
        createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY }).on("line", (line) => {
          // Lines that only move the cursor (spinners, "show cursor" on exit) mean nothing once prefixed.
          if (line && !line.replace(ANSI, "").trim()) return;
          this.tail.push(line);
          if (this.tail.length > TAIL_LINES) this.tail.shift();
          if (output === "prefix" && (options.show?.(line.replace(ANSI, "")) ?? true)) {
            process.stdout.write(`${options.prefix ?? `[${name}]`} ${line}\n`);
          }
        });
      }
    }
  }

  get pid() {
    return this.process.pid;
  }

  /** @param {NodeJS.Signals | 0} signal */
  signal(signal) {
    const pid = this.process.pid;
    if (pid === undefined) return false;
    try {
      process.kill(this.signalGroup ? -pid : pid, signal);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Asks the child to stop (SIGTERM or its stopSignal), waits up to `graceMs`, then SIGKILLs its group.
   * @param {{ graceMs?: number }} [options]
   */
  async stop({ graceMs = 10_000 } = {}) {
    this.stopping = true;
    if (!this.exitInfo) {
      this.signal(this.stopSignal);
      const timer = setTimeout(() => this.killGroup(), graceMs);
      await this.exited;
      clearTimeout(timer);
    }
    // The leader is gone; give anything it left in its group a moment, then make sure.
    if (this.signalGroup && this.pid !== undefined) {
      for (let i = 0; i < 20 && groupAlive(this.pid); i++) await sleep(100);
      this.killGroup();
    }
    return this.exitInfo;
  }

  /** SIGKILL for the child's process group (or only the child, when it was not given one to signal). */
  killGroup() {
    const pid = this.process.pid;
    if (pid === undefined) return;
    try {
      // Once the leader has exited its pid may be reused: then only the group id is still ours.
      if (this.signalGroup) process.kill(-pid, "SIGKILL");
      else if (!this.exitInfo) process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }

  /** "exit code 1" / "signal SIGKILL" */
  describeExit() {
    const info = this.exitInfo;
    if (!info) return "still running";
    if (info.error) return info.error.message;
    return info.signal ? `signal ${info.signal}` : `exit code ${info.code}`;
  }
}

/** @param {number} pid */
function groupAlive(pid) {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** True when a process with this id exists (also when it belongs to another user). */
export function isAlive(/** @type {number} */ pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return /** @type {NodeJS.ErrnoException} */ (error).code === "EPERM";
  }
}

/** A process' command line ("" when it is gone), to tell our own leftovers from an unrelated process. */
export function commandLineOf(/** @type {number} */ pid) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ").trim();
  } catch {
    const ps = spawnSync("ps", ["-o", "command=", "-p", String(pid)], { encoding: "utf8" });
    return ps.status === 0 ? ps.stdout.trim() : "";
  }
}

export function sleep(/** @type {number} */ ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Runs a command to completion. Never rejects because of the command's exit status: look at `code`.
 * @param {string} name @param {string} command @param {string[]} args @param {ChildOptions & { timeoutMs?: number }} [options]
 */
export async function run(name, command, args, options = {}) {
  const child = new Child(name, command, args, options);
  /** @type {NodeJS.Timeout | undefined} */
  let timer;
  let timedOut = false;
  if (options.timeoutMs) {
    timer = setTimeout(() => {
      timedOut = true;
      child.stop({ graceMs: 10_000 });
    }, options.timeoutMs);
  }
  const info = await child.closed;
  clearTimeout(timer);
  return { ...info, ok: info.code === 0 && !timedOut, timedOut, tail: child.tail, child };
}

/**
 * Runs a command and throws a SetupError (with the command's last output lines) unless it succeeds.
 * @param {string} what what the command does, e.g. "applying migrations"
 * @param {string} fix what to do about a failure
 * @param {string} command @param {string[]} args @param {ChildOptions & { timeoutMs?: number }} [options]
 */
export async function mustRun(what, fix, command, args, options = {}) {
  const result = await run(what, command, args, { output: "capture", ...options });
  if (closing) throw new Interrupted();
  if (!result.ok) {
    const how = result.timedOut ? "timed out" : `failed (${result.child.describeExit()})`;
    throw new SetupError(`${what} ${how}`, fix, {
      details: options.output === "capture" || !options.output ? result.tail.slice(-30) : [],
    });
  }
  return result;
}

/**
 * Marks the orchestration as shutting down (no new children start) and stops the running children:
 * everything but the services (databases, brokers) unless `services` is true, so that what uses
 * them stops first.
 */
export async function stopAll({ graceMs = 10_000, services = false } = {}) {
  closing = true;
  await Promise.all(
    [...running].filter((child) => services || !child.isService).map((child) => child.stop({ graceMs })),
  );
}

/** How many children are still running. */
export function runningCount() {
  return running.size;
}

/**
 * Calls `onSignal` once on the first SIGINT/SIGTERM/SIGHUP; another one a little later kills every
 * child at once and exits (for when a graceful stop hangs).
 * @param {(signal: NodeJS.Signals) => void} onSignal
 */
export function onShutdownSignal(onSignal) {
  let first = 0;
  for (const signal of /** @type {NodeJS.Signals[]} */ (["SIGINT", "SIGTERM", "SIGHUP"])) {
    process.on(signal, () => {
      if (!first) {
        first = Date.now();
        onSignal(signal);
        return;
      }
      // Under `npm start` one Ctrl-C arrives twice (from the terminal and forwarded by npm): only a
      // later one means "stop waiting".
      if (Date.now() - first < 2000) return;
      for (const child of running) child.killGroup();
      process.exit(130);
    });
  }
}

// If we exit for any reason (an uncaught error, process.exit in the middle of things), do not leave
// detached children behind.
process.on("exit", () => {
  for (const child of running) child.signal(child.stopSignal);
});
