import type { Logger } from "@sluice/log/logger";

// The engine logs through whatever logger its app built (see @sluice/log); it never reads the environment for it.
export type EngineLogger = Logger;

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
