"use client";

import type { AppRouter } from "@sluice/api/root";
import type { inferRouterInputs } from "@trpc/server";
import { useCallback } from "react";
import type { RouterOutputs } from "@/components/api-types";
import { useTRPCClient } from "@/trpc/react";

// The one place a dashboard runs a saved query: savedQueries.run, which any member may call (the query runs as saved,
// with the dashboard's range as its `from` and `to`). Tiles know only this shape.

export type SavedQueryRunInput = inferRouterInputs<AppRouter>["savedQueries"]["run"];
export type SavedQueryRunResult = RouterOutputs["savedQueries"]["run"];

/** Rows a tile asks for at most: a chart of more points is not readable in a tile anyway. */
export const TILE_ROW_LIMIT = 5000;

export function newQueryId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return `dash-${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

/** A function that runs one saved query as a tile does. */
export function useSavedQueryRunner(): (input: SavedQueryRunInput) => Promise<SavedQueryRunResult> {
  const client = useTRPCClient();
  return useCallback((input) => client.savedQueries.run.query(input), [client]);
}
