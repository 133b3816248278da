"use client";

import type { RunSnapshot } from "@sluice/pipeline/control/protocol";
import { skipToken } from "@tanstack/react-query";
import { useSubscription } from "@trpc/tanstack-react-query";
import { useEffect, useState } from "react";
import { useTRPC } from "@/trpc/react";

// Following a run as it goes: its live snapshot over SSE, and a clock for its elapsed time. The run page and the
// editor's live run both use them.

/** The current time, ticking while `live`. */
export function useNow(live: boolean, everyMs = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!live) return;
    const timer = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(timer);
  }, [live, everyMs]);
  return now;
}

/**
 * Follows a run's snapshot over SSE until it ends (paused runs included), handing each one to `onSnapshot`.
 * Returns the newest snapshot.
 */
export function useRunSnapshot(
  runId: string | null,
  follow: boolean,
  onSnapshot?: (snapshot: RunSnapshot) => void,
): RunSnapshot | null {
  const trpc = useTRPC();
  const [snapshot, setSnapshot] = useState<RunSnapshot | null>(null);
  useEffect(() => {
    if (snapshot && snapshot.runId !== runId) setSnapshot(null);
  }, [runId, snapshot]);
  useSubscription(
    trpc.runs.live.subscriptionOptions(runId && follow ? { runId } : skipToken, {
      onData: (event) => {
        setSnapshot(event.data);
        onSnapshot?.(event.data);
      },
    }),
  );
  return snapshot && snapshot.runId === runId ? snapshot : null;
}
