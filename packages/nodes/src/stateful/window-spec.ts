import { Duration, formatDuration, parseDuration } from "@sluice/pipeline/duration";
import { z } from "zod";

// Window shapes as node configs write them (`{ tumble: 1m }`, `{ hop: { size: 10s, every: 2s } }`,
// `{ session: { gap: 30s } }`), normalised to one shape the runtimes work with, and the arithmetic that assigns
// a time to its windows. Browser-safe.

/** The most windows one record may fall into (hop size / every): each costs state and work per record. */
const MAX_WINDOWS_PER_RECORD = 1000;

/** Tumbling (`every` = `size`) and hopping windows, aligned to the epoch (UTC): [start, start + size). */
export interface FixedWindows {
  kind: "tumble" | "hop";
  size: number;
  every: number;
}

export interface SessionWindows {
  kind: "session";
  gap: number;
}

export type WindowShape = FixedWindows | SessionWindows;

export const PositiveDuration = Duration.refine((ms) => ms > 0, "must be longer than 0");

const durationMeta = (label: string, help: string, placeholder: string) =>
  ({ label, help, widget: "duration", placeholder }) as const;

const Hop = z
  .strictObject({
    size: PositiveDuration.meta(durationMeta("Size", "How long each window is.", "10s")),
    every: PositiveDuration.meta(durationMeta("Every", "How often a new window starts.", "2s")),
  })
  .superRefine((h, ctx) => {
    if (h.every > h.size) {
      ctx.addIssue({
        code: "custom",
        path: ["every"],
        message: `every (${formatDuration(h.every)}) is longer than size (${formatDuration(h.size)}): records between windows would belong to none; use a tumbling window or a shorter step`,
      });
    } else if (h.size / h.every > MAX_WINDOWS_PER_RECORD) {
      ctx.addIssue({
        code: "custom",
        path: ["every"],
        message: `size / every is ${Math.ceil(h.size / h.every)}: each record would fall into that many windows (at most ${MAX_WINDOWS_PER_RECORD})`,
      });
    }
  });

/** A window config: tumbling, hopping or session windows. */
export function windowSpec() {
  return windowShape({ session: true });
}

/** A window config without sessions, for operators that cannot merge windows. */
export function fixedWindowSpec() {
  // Without a `session` key the shape can only come out tumbling or hopping.
  return windowShape({ session: false }).transform((w) => w as FixedWindows);
}

function windowShape(options: { session: boolean }) {
  const kinds = options.session ? "tumble, hop or session" : "tumble or hop";
  const shape = {
    tumble: PositiveDuration.optional().meta({
      ...durationMeta("Tumbling", "Back-to-back windows of this length, aligned to the epoch (UTC).", "1m"),
    }),
    hop: Hop.optional().meta({
      label: "Hopping",
      help: "Overlapping windows of length size starting every `every`; a record falls into size / every of them.",
    }),
    ...(options.session
      ? {
          session: z
            .strictObject({
              gap: PositiveDuration.meta(
                durationMeta("Gap", "A key's session ends after this long without records.", "30s"),
              ),
            })
            .optional()
            .meta({ label: "Session", help: "Per key: records closer together than the gap share one window." }),
        }
      : {}),
  };
  return z
    .strictObject(shape)
    .superRefine((w, ctx) => {
      const chosen = Object.keys(w).filter((k) => w[k as keyof typeof w] !== undefined);
      if (chosen.length !== 1) {
        ctx.addIssue({
          code: "custom",
          message:
            chosen.length === 0
              ? `choose a window: ${kinds}, e.g. { tumble: 1m }`
              : `choose one window kind, not ${chosen.join(" and ")}`,
        });
      }
    })
    .transform((w): WindowShape => {
      const raw = w as { tumble?: number; hop?: { size: number; every: number }; session?: { gap: number } };
      if (raw.tumble !== undefined) return { kind: "tumble", size: raw.tumble, every: raw.tumble };
      if (raw.hop !== undefined) return { kind: "hop", size: raw.hop.size, every: raw.hop.every };
      return { kind: "session", gap: raw.session!.gap };
    })
    .meta({
      label: "Window",
      help: `One of ${kinds}. Durations like 500ms, 10s, 1m, 2h, 1d.`,
      examples: [
        { tumble: "1m" },
        { hop: { size: "10s", every: "2s" } },
        ...(options.session ? [{ session: { gap: "30s" } }] : []),
      ],
    });
}

/** A signed duration such as "-5m", "0s" or "+30s" (or milliseconds), for bounds relative to a time. */
export const SignedDuration = z.union([z.string(), z.number()]).transform((v, ctx) => {
  if (typeof v === "number") {
    if (Number.isFinite(v)) return v;
  } else {
    const text = v.trim();
    const sign = text.startsWith("-") ? -1 : 1;
    const ms = parseDuration(/^[-+]/.test(text) ? text.slice(1) : text);
    if (ms !== undefined) return sign * ms || 0;
  }
  ctx.addIssue({ code: "custom", message: `"${v}" is not a duration; write e.g. -5m, 0s or 30s` });
  return z.NEVER;
});

export function describeWindow(w: WindowShape): string {
  switch (w.kind) {
    case "tumble":
      return `tumble ${formatDuration(w.size)}`;
    case "hop":
      return `hop ${formatDuration(w.size)} every ${formatDuration(w.every)}`;
    case "session":
      return `session gap ${formatDuration(w.gap)}`;
  }
}

export function formatSignedDuration(ms: number): string {
  return ms < 0 ? `-${formatDuration(-ms)}` : formatDuration(ms);
}

/** The start of the earliest window that holds `time`; the others start `every` apart after it. */
export function firstWindowStart(w: FixedWindows, time: number): number {
  const last = Math.floor(time / w.every) * w.every;
  return last - (Math.ceil((last + w.size - time) / w.every) - 1) * w.every;
}

/** How many windows hold `time` (the same for every time when size is a multiple of every). */
export function windowCount(w: FixedWindows, time: number): number {
  const last = Math.floor(time / w.every) * w.every;
  return Math.ceil((last + w.size - time) / w.every);
}
