"use client";

import type { RunFiguresView } from "@sluice/pipeline/control/node-figures";
import { skipToken } from "@tanstack/react-query";
import { useSubscription } from "@trpc/tanstack-react-query";
import { useEffect, useRef, useState } from "react";
import { useTRPC } from "@/trpc/react";

// A run's live figures (runs.figures) for the run page's charts and the editor's canvas. The tRPC client reopens a
// dropped stream by itself and resumes after the last second received (trpc/subscription-retry.ts); this hook tells
// the page whether the stream is flowing or being reopened, and when it flows again after a drop.

/** What a page tells about its live stream: nothing yet, flowing, lost and being reopened, or ended. */
export type LiveState = "connecting" | "live" | "reconnecting" | "off";

/**
 * Follows runs.figures of `runId` (null: none), handing each second to `onSecond` (after a drop, the seconds missed
 * come first); `onResumed` is called when figures flow again after a drop.
 */
export function useLiveFigures(
  runId: string | null,
  onSecond: (view: RunFiguresView) => void,
  { onResumed }: { onResumed?: () => void } = {},
): LiveState {
  const trpc = useTRPC();
  const [hadData, setHadData] = useState(false);
  const lost = useRef(false);
  const sub = useSubscription(
    trpc.runs.figures.subscriptionOptions(runId ? { runId } : skipToken, {
      onData: (event) => {
        if (!hadData) setHadData(true);
        if (lost.current) {
          lost.current = false;
          onResumed?.();
        }
        onSecond(event.data);
      },
    }),
  );
  const state: LiveState =
    sub.status === "idle" || sub.status === "error"
      ? "off"
      : sub.status === "pending"
        ? "live"
        : hadData
          ? "reconnecting"
          : "connecting";
  useEffect(() => {
    if (state === "reconnecting") lost.current = true;
  }, [state]);
  return state;
}
