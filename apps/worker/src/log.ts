import type { EngineLogger } from "@sluice/engine/engine-logger";

const LEVELS = { debug: 10, info: 20, warn: 30, error: 40 } as const;
type Level = keyof typeof LEVELS;

function formatValue(v: unknown): string {
  const s = typeof v === "string" ? v : JSON.stringify(v);
  return /[\s="]/.test(s ?? "") ? JSON.stringify(s) : String(s);
}

/** logfmt-style lines on stderr: readable by people, greppable by machines. */
export function createLogger(min: Level, write: (line: string) => void = (l) => process.stderr.write(l)): EngineLogger {
  const at = (level: Level) => (message: string, fields?: Record<string, unknown>) => {
    if (LEVELS[level] < LEVELS[min]) return;
    const extra = Object.entries(fields ?? {})
      .map(([k, v]) => ` ${k}=${formatValue(v)}`)
      .join("");
    write(`${new Date().toISOString()} ${level} ${message}${extra}\n`);
  };
  return { info: at("info"), warn: at("warn"), error: at("error") };
}
