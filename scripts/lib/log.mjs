// Progress lines and one-line failures for the start/test orchestration. Node builtins only: these
// modules run before `npm ci` has installed anything.

const useColor = Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;

/** @param {string} code @param {string} text */
function paint(code, text) {
  return useColor ? `\x1b[${code}m${text}\x1b[0m` : text;
}

export const bold = (/** @type {string} */ text) => paint("1", text);
export const dim = (/** @type {string} */ text) => paint("2", text);
export const red = (/** @type {string} */ text) => paint("31", text);
export const green = (/** @type {string} */ text) => paint("32", text);
export const yellow = (/** @type {string} */ text) => paint("33", text);
export const cyan = (/** @type {string} */ text) => paint("36", text);
export const magenta = (/** @type {string} */ text) => paint("35", text);

/**
 * Time since this process started as m:ss, the stamp on every progress line: a user waiting for `npm start` sees
 * how far it has come without doing sums.
 * @param {number} ms
 */
export function clock(ms) {
  const total = Math.max(0, Math.floor(ms / 1000));
  return `${Math.floor(total / 60)}:${String(total % 60).padStart(2, "0")}`;
}

const sinceStart = () => performance.now();

/** A progress line from the orchestrator itself. */
export function say(/** @type {string} */ message) {
  console.log(`${cyan(`[sluice ${clock(sinceStart())}]`)} ${message}`);
}

/** Something the user should know about that does not stop the run. */
export function note(/** @type {string} */ message) {
  console.log(`${yellow(`[sluice ${clock(sinceStart())}]`)} ${message}`);
}

/**
 * What a heartbeat says about a step still under way: how long it has taken, and against the last time it took
 * (when known) how long it may still take.
 * @param {string} step e.g. "building the web app" @param {number} elapsedMs @param {number} [expectedMs]
 */
export function heartbeatLine(step, elapsedMs, expectedMs) {
  const sofar = `still ${step}: ${seconds(elapsedMs)} so far`;
  if (!expectedMs) return sofar;
  const left = expectedMs - elapsedMs;
  if (left >= 5000) return `${sofar}, about ${seconds(left)} to go (it took ${seconds(expectedMs)} last time)`;
  return `${sofar} (it took ${seconds(expectedMs)} last time)`;
}

/**
 * Says `heartbeatLine` every `everyMs` until the returned function is called, so a long step never looks stuck.
 * @param {string} step @param {{ expectedMs?: number, everyMs?: number }} [options]
 * @returns {() => void} stops the heartbeat
 */
export function heartbeat(step, { expectedMs, everyMs = 15_000 } = {}) {
  const started = Date.now();
  const timer = setInterval(() => say(heartbeatLine(step, Date.now() - started, expectedMs)), everyMs);
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * An expected failure (a missing tool, a port in use, a bad URL). Printed as one line
 * `sluice: <problem>. <fix>` without a stack trace; `details` (e.g. a log tail) is printed above it.
 */
export class SetupError extends Error {
  /** @param {string} problem @param {string} [fix] @param {{ details?: string[] }} [options] */
  constructor(problem, fix, options = {}) {
    super(fix ? `${problem}. ${fix}` : problem);
    this.name = "SetupError";
    this.details = options.details ?? [];
  }
}

/** Thrown into a set-up sequence that Ctrl-C interrupted: nothing to report. */
export class Interrupted extends Error {
  constructor() {
    super("interrupted");
    this.name = "Interrupted";
  }
}

/** Prints an error the way the orchestrator reports failures. */
export function reportFailure(/** @type {unknown} */ error) {
  if (error instanceof Interrupted) return;
  if (error instanceof SetupError) {
    for (const line of error.details) console.error(dim(`  ${line}`));
    console.error(red(`sluice: ${error.message}`));
    return;
  }
  // Not an expected failure: the stack is what a maintainer needs.
  console.error(
    red(`sluice: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`),
  );
}

export function seconds(/** @type {number} */ ms) {
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const total = Math.round(ms / 1000);
  return `${Math.floor(total / 60)}m${String(total % 60).padStart(2, "0")}s`;
}

/** A path relative to the working directory when it is inside it, else absolute. */
export function shortPath(/** @type {string} */ file) {
  const cwd = process.cwd();
  return file.startsWith(`${cwd}/`) ? file.slice(cwd.length + 1) : file;
}
