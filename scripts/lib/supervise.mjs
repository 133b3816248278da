// Keeping `npm start`'s processes up: when the web app, the worker, PostgreSQL or Redis stops on its own, say which
// and why, and start it again after a pause that grows with each try; only a process that keeps stopping (too many
// restarts within a window) ends the whole thing, with the reason. Stopping on purpose (Ctrl-C) is not a failure.

import { dim, red, shortPath, yellow } from "./log.mjs";
import { sleep } from "./proc.mjs";

/** @typedef {import("./proc.mjs").Child} Child */

/**
 * @typedef {object} SupervisorOptions
 * @property {number} [maxRestarts] restarts of one process allowed within `windowMs` (default 5)
 * @property {number} [windowMs] default 10 minutes
 * @property {number} [firstDelayMs] pause before the first restart; doubled for each recent one (default 1 s)
 * @property {number} [maxDelayMs] longest pause (default 30 s)
 * @property {(line: string) => void} [report] where messages go (default: stderr)
 */

/**
 * @typedef {object} Unit
 * @property {string} name
 * @property {Child} child
 * @property {() => Promise<Child>} restart
 * @property {number[]} restarts when it was restarted (epoch ms)
 */

/** Why a supervised process was given up on. */
export class GaveUp {
  /** @param {string} name @param {string} reason */
  constructor(name, reason) {
    this.name = name;
    this.reason = reason;
  }

  get message() {
    return `the ${this.name} process keeps stopping (${this.reason})`;
  }
}

export class Supervisor {
  /** @param {SupervisorOptions} [options] */
  constructor(options = {}) {
    this.maxRestarts = options.maxRestarts ?? 5;
    this.windowMs = options.windowMs ?? 10 * 60_000;
    this.firstDelayMs = options.firstDelayMs ?? 1000;
    this.maxDelayMs = options.maxDelayMs ?? 30_000;
    this.report = options.report ?? ((/** @type {string} */ line) => console.error(line));
    this.stopped = false;
    /** @type {Unit[]} */
    this.units = [];
    /** @type {(reason: GaveUp) => void} */
    let resolve = () => {};
    /** @type {Promise<GaveUp>} resolves when a process keeps stopping; then nothing is restarted any more */
    this.gaveUp = new Promise((r) => {
      resolve = r;
    });
    this.giveUp = resolve;
  }

  /**
   * Watches `child`; when it exits without being asked to, `restart` starts a new one.
   * @param {string} name @param {Child} child @param {() => Promise<Child> | Child} restart
   */
  watch(name, child, restart) {
    /** @type {Unit} */
    const unit = { name, child, restart: async () => restart(), restarts: [] };
    this.units.push(unit);
    this.follow(unit);
    return unit;
  }

  /** No more restarts (Ctrl-C, or shutting down after giving up). */
  stop() {
    this.stopped = true;
  }

  /** @param {Unit} unit */
  follow(unit) {
    const { child } = unit;
    child.exited.then(() => {
      if (this.stopped || child.stopping || unit.child !== child) return;
      child.killGroup(); // what it started (next's own workers) must not hold the port for the next one
      this.describeExit(unit);
      return this.restartLater(unit, child.describeExit());
    });
  }

  /** @param {Unit} unit */
  describeExit(unit) {
    const { child } = unit;
    for (const line of child.tail.slice(-20)) this.report(dim(`  ${line}`));
    const where = child.logFile ? ` Its log: ${shortPath(child.logFile)}.` : "";
    this.report(red(`sluice: the ${unit.name} process stopped unexpectedly (${child.describeExit()}).${where}`));
  }

  /** @param {Unit} unit @param {string} reason what ended the last one */
  async restartLater(unit, reason) {
    const now = Date.now();
    unit.restarts = unit.restarts.filter((at) => now - at < this.windowMs);
    if (unit.restarts.length >= this.maxRestarts) {
      this.stopped = true;
      const minutes = Math.round(this.windowMs / 60_000);
      this.giveUp(
        new GaveUp(
          unit.name,
          `${this.maxRestarts} restarts within ${minutes} min did not help; the last one: ${reason}`,
        ),
      );
      return;
    }
    const delay = Math.min(this.maxDelayMs, this.firstDelayMs * 2 ** unit.restarts.length);
    unit.restarts.push(now);
    const attempt = `restart ${unit.restarts.length} of at most ${this.maxRestarts} within ${Math.round(this.windowMs / 60_000)} min`;
    this.report(yellow(`sluice: restarting the ${unit.name} process in ${formatDelay(delay)} (${attempt})`));
    await sleep(delay);
    if (this.stopped) return;
    try {
      const child = await unit.restart();
      if (this.stopped) {
        await child.stop({ graceMs: 10_000 });
        return;
      }
      unit.child = child;
      this.report(yellow(`sluice: the ${unit.name} process is running again`));
      this.follow(unit);
    } catch (error) {
      if (this.stopped) return;
      const why = error instanceof Error ? error.message : String(error);
      this.report(red(`sluice: could not restart the ${unit.name} process: ${why}`));
      await this.restartLater(unit, `could not restart it: ${why}`);
    }
  }
}

/** @param {number} ms */
function formatDelay(ms) {
  return ms < 1000 ? `${ms} ms` : `${Math.round(ms / 100) / 10} s`;
}
