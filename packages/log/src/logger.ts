import { type DestinationStream, type Logger as PinoLogger, pino } from "pino";
import pretty from "pino-pretty";

// Sluice's one logger: pino underneath, JSON lines for machines, readable lines in a terminal. The engine, the worker,
// the CLI and the web server all build theirs here, from SLUICE_LOG_LEVEL and SLUICE_LOG_FORMAT.

export const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export type LogFormat = "json" | "pretty";

export type LogFields = Record<string, unknown>;
type LogMethod = (message: string, fields?: LogFields) => void;

/** Message first, fields after: the shape every call site in Sluice writes. */
export interface Logger {
  trace: LogMethod;
  debug: LogMethod;
  info: LogMethod;
  warn: LogMethod;
  error: LogMethod;
  fatal: LogMethod;
  /** A logger whose every line also carries `bindings` (a run, a stage, a partition, a node). */
  child(bindings: LogFields): Logger;
}

export interface LogSettings {
  level: LogLevel;
  format: LogFormat;
}

export class LogSettingsError extends Error {
  override name = "LogSettingsError";
}

/**
 * Secrets never reach a log line: these keys are replaced wherever they sit in a logged object, up to three levels
 * down (a connection's config inside a node's fields, say).
 */
const SECRET_KEYS = ["password", "token", "secret", "secretKey", "authorization", "Authorization", "apiKey", "cookie"];
export const REDACTED = "[redacted]";
const REDACT_PATHS = SECRET_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`, `*.*.*.${k}`]);

export interface LogDefaults {
  /** The level when SLUICE_LOG_LEVEL is not set; info unless the process has its own say (the CLI's progress line). */
  defaultLevel?: LogLevel;
  /** Whether stderr is a terminal: it decides the default format. */
  isTerminal?: boolean;
}

/**
 * SLUICE_LOG_LEVEL (default info) and SLUICE_LOG_FORMAT (default: pretty on a terminal, JSON otherwise). A bad value
 * is an error that names the variable.
 */
export function readLogSettings(
  env: Readonly<Record<string, string | undefined>> = process.env,
  { defaultLevel = "info", isTerminal = process.stderr.isTTY === true }: LogDefaults = {},
): LogSettings {
  const level = (env.SLUICE_LOG_LEVEL ?? "").trim().toLowerCase() || defaultLevel;
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    throw new LogSettingsError(
      `SLUICE_LOG_LEVEL is "${env.SLUICE_LOG_LEVEL}"; it must be one of ${LOG_LEVELS.join(", ")}.`,
    );
  }
  const format = (env.SLUICE_LOG_FORMAT ?? "").trim().toLowerCase() || (isTerminal ? "pretty" : "json");
  if (format !== "json" && format !== "pretty") {
    throw new LogSettingsError(`SLUICE_LOG_FORMAT is "${env.SLUICE_LOG_FORMAT}"; it must be json or pretty.`);
  }
  return { level: level as LogLevel, format };
}

export interface CreateLoggerOptions extends LogSettings {
  /** Names the process on every line: "worker", "web", "cli". */
  name?: string;
  /** Where lines go; stderr when not given. Tests pass a stream of their own. */
  destination?: DestinationStream;
}

export function createLogger(options: CreateLoggerOptions): Logger {
  const base = pino(
    {
      level: options.level,
      base: options.name ? { name: options.name } : null,
      redact: { paths: REDACT_PATHS, censor: REDACTED },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destinationOf(options),
  );
  return wrap(base);
}

function destinationOf({ format, destination }: CreateLoggerOptions): DestinationStream {
  // pino-pretty as a stream in this thread, not as a transport: a transport starts a worker thread, which the Next
  // server's bundle cannot load.
  if (format === "pretty") {
    return pretty({
      destination: destination ?? 2,
      sync: true,
      singleLine: true,
      ignore: "pid,hostname",
      translateTime: "SYS:HH:MM:ss.l",
    });
  }
  return destination ?? pino.destination({ dest: 2, sync: true });
}

/** The logger that says nothing: the default of library code that was given none. */
export const silentLogger: Logger = wrap(pino({ level: "silent" }));

function wrap(p: PinoLogger): Logger {
  const at =
    (level: Exclude<LogLevel, "silent">): LogMethod =>
    (message, fields) => {
      if (fields === undefined) p[level](message);
      else p[level](fields, message);
    };
  return {
    trace: at("trace"),
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
    fatal: at("fatal"),
    child: (bindings) => wrap(p.child(bindings)),
  };
}

/**
 * A logger that writes every line to both: the process's own and a second one with its own level and destination
 * (the worker's copy of a run's lines into Redis). Each keeps its bindings, redaction and level.
 */
export function teeLogger(first: Logger, second: Logger): Logger {
  const at =
    (level: Exclude<LogLevel, "silent">): LogMethod =>
    (message, fields) => {
      first[level](message, fields);
      second[level](message, fields);
    };
  return {
    trace: at("trace"),
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
    fatal: at("fatal"),
    child: (bindings) => teeLogger(first.child(bindings), second.child(bindings)),
  };
}

export interface LogEntry {
  level: Exclude<LogLevel, "silent">;
  message: string;
  /** The line's fields with its loggers' bindings. */
  fields: LogFields;
}

/** A logger that hands each line to `record` as it is: for tests that read what was logged. */
export function recordingLogger(record: (entry: LogEntry) => void, bindings: LogFields = {}): Logger {
  const at =
    (level: LogEntry["level"]): LogMethod =>
    (message, fields) =>
      record({ level, message, fields: { ...bindings, ...fields } });
  return {
    trace: at("trace"),
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
    fatal: at("fatal"),
    child: (more) => recordingLogger(record, { ...bindings, ...more }),
  };
}

const PROCESS_LOGGER = Symbol.for("sluice.log.process");
type ProcessLoggerCache = { [PROCESS_LOGGER]?: Logger };

/**
 * The process's logger for code that was handed none (a request that failed before it had a context): built once
 * from SLUICE_LOG_LEVEL and SLUICE_LOG_FORMAT. Apps check those at start-up; here a bad value falls back to info.
 */
export function processLogger(): Logger {
  const cache = globalThis as ProcessLoggerCache;
  if (!cache[PROCESS_LOGGER]) {
    let settings: LogSettings;
    try {
      settings = readLogSettings();
    } catch {
      settings = readLogSettings({});
    }
    cache[PROCESS_LOGGER] = createLogger(settings);
  }
  return cache[PROCESS_LOGGER];
}
