import type { RouterOutputs } from "@/components/api-types";

// What a timeline event says to the user: a sentence about the run, and a tone that picks its mark's colour.

export type TimelineEvent = RouterOutputs["runs"]["timeline"][number];

export type TimelineTone = "good" | "neutral" | "warn" | "bad";

export interface TimelineLine {
  /** The sentence shown. */
  text: string;
  tone: TimelineTone;
  /** A short word for the mark beside it (read by screen readers too). */
  mark: string;
}

function where(e: TimelineEvent): string {
  return e.partition === undefined ? "" : `partition ${e.partition} of stage ${e.stage ?? 0}`;
}

/** The line a timeline shows for one event. */
export function describeRunEvent(e: TimelineEvent): TimelineLine {
  switch (e.kind) {
    case "started":
      return { text: "The run started.", tone: "good", mark: "start" };
    case "paused":
      return { text: "Paused: the run reads nothing until it is resumed.", tone: "neutral", mark: "pause" };
    case "resumed":
      return { text: "Resumed.", tone: "good", mark: "resume" };
    case "stop-requested":
      return {
        text: "Stop requested: the run finishes the batches it has read, then stops.",
        tone: "neutral",
        mark: "stop",
      };
    case "stopped":
      return { text: "The run stopped.", tone: "neutral", mark: "stop" };
    case "completed":
      return { text: "The run completed: every source was read to its end.", tone: "good", mark: "done" };
    case "failed":
      return { text: "The run failed.", tone: "bad", mark: "fail" };
    case "restarted":
      return {
        text: e.reset
          ? `Restarted from scratch (attempt ${e.generation ?? "?"}): every partition's state was cleared.`
          : `Restarted from its last commit (attempt ${e.generation ?? "?"}).`,
        tone: "good",
        mark: "restart",
      };
    case "takeover":
      return {
        text: `Worker ${e.worker ?? "?"} took over ${where(e)}${
          e.previousWorker ? ` after worker ${e.previousWorker} stopped while holding it` : ""
        }.`,
        tone: "warn",
        mark: "worker",
      };
    case "retry":
      return {
        text: `${capitalize(where(e))} failed and is tried again (attempt ${e.attempt ?? "?"}).`,
        tone: "warn",
        mark: "retry",
      };
    case "dead-letter-limit":
      return {
        text: `${capitalize(where(e))} reached the dead-letter limit (settings.deadLetterLimit); the run is failed.`,
        tone: "bad",
        mark: "limit",
      };
    case "dead-letters-replayed":
      return {
        text: `${e.by ?? "Someone"} replayed ${letters(e.count)} (${e.scope ?? "?"}).`,
        tone: "neutral",
        mark: "replay",
      };
    case "dead-letters-fixed":
      return {
        text: `${e.by ?? "Someone"} fixed ${letters(e.count)} (${e.scope ?? "?"}) ${
          e.fix === "by hand" ? "by hand" : `with \`${e.fix ?? "?"}\``
        }${e.replayed ? " and replayed them" : ""}.`,
        tone: "neutral",
        mark: "fix",
      };
    case "dead-letters-discarded":
      return {
        text: `${e.by ?? "Someone"} discarded ${letters(e.count)} (${e.scope ?? "?"}): ${e.reason ?? "no reason given"}.`,
        tone: "warn",
        mark: "discard",
      };
  }
}

function letters(n: number | undefined): string {
  return n === 1 ? "1 dead letter" : `${(n ?? 0).toLocaleString("en-US")} dead letters`;
}

function capitalize(s: string): string {
  return s ? s[0]!.toUpperCase() + s.slice(1) : "A partition";
}
