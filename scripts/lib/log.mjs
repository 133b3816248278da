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

/** A progress line from the orchestrator itself. */
export function say(/** @type {string} */ message) {
  console.log(`${cyan("[sluice]")} ${message}`);
}

/** Something the user should know about that does not stop the run. */
export function note(/** @type {string} */ message) {
  console.log(`${yellow("[sluice]")} ${message}`);
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
