import { parseDuration } from "@sluice/pipeline/duration";
import { z } from "zod";

// The resolutions node-figure history is kept at, and how long each is kept (SLUICE_HISTORY_RETENTION).

/** Bucket widths in seconds, finest first: each is rolled up from the one before it. */
export const RESOLUTIONS = [10, 60, 3600] as const;
export type Resolution = (typeof RESOLUTIONS)[number];

const LABELS: Record<Resolution, string> = { 10: "10s", 60: "1m", 3600: "1h" };

/** How long buckets of each resolution are kept, in ms. */
export type HistoryRetention = Record<Resolution, number>;

export const DEFAULT_HISTORY_RETENTION = "10s:24h,1m:30d,1h:365d";
/** DEFAULT_HISTORY_RETENTION, read (for callers without the web app's environment, such as tests and scripts). */
export const DEFAULT_HISTORY_RETENTION_MS: HistoryRetention = {
  10: 86_400_000,
  60: 30 * 86_400_000,
  3600: 365 * 86_400_000,
};

/**
 * Reads `10s:24h,1m:30d,1h:365d`; a string is the problem, as a sentence. Every resolution must be given, and kept
 * at least as long as the next coarser bucket is wide, since that bucket is recomputed from it until it completes.
 */
export function parseHistoryRetention(text: string): HistoryRetention | string {
  const found: Partial<HistoryRetention> = {};
  for (const part of text.split(",")) {
    const [label, duration, ...rest] = part.trim().split(":");
    const resolution = RESOLUTIONS.find((r) => LABELS[r] === label?.trim());
    if (resolution === undefined || duration === undefined || rest.length > 0) {
      return `"${part.trim()}" is not <resolution>:<duration> with a resolution of 10s, 1m or 1h (e.g. 1m:30d)`;
    }
    const ms = parseDuration(duration.trim());
    if (ms === undefined || ms <= 0 || ms > 3650 * 86_400_000) {
      return `"${duration.trim()}" for ${label} is not a duration from 1s to 3650d; write e.g. 30d or 12h`;
    }
    found[resolution] = ms;
  }
  for (const [i, r] of RESOLUTIONS.entries()) {
    const ms = found[r];
    if (ms === undefined)
      return `the ${LABELS[r]} resolution is missing; give all three, e.g. ${DEFAULT_HISTORY_RETENTION}`;
    const next = RESOLUTIONS[i + 1];
    if (next !== undefined && ms < next * 1000) {
      return `${LABELS[r]} history must be kept at least ${LABELS[next]}, the width of the buckets rolled up from it`;
    }
  }
  return found as HistoryRetention;
}

/** SLUICE_HISTORY_RETENTION as the web app's env schema reads it. */
export const HistoryRetentionSetting = z
  .string()
  .default(DEFAULT_HISTORY_RETENTION)
  .transform((text, ctx) => {
    const retention = parseHistoryRetention(text);
    if (typeof retention === "string") {
      ctx.addIssue({ code: "custom", message: retention });
      return z.NEVER;
    }
    return retention;
  });
