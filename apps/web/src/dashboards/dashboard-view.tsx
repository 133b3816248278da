"use client";

import type { TimeRange } from "@sluice/api/dashboards/dashboard-router.types";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import type { RouterOutputs } from "@/components/api-types";
import { errorCode, errorMessage } from "@/lib/errors";
import { formatRelative } from "@/lib/format";
import { useWorkspaceRole } from "@/lib/use-workspace-role";
import { useNow } from "@/runs/use-run-snapshot";
import { useTRPC } from "@/trpc/react";
import { AddTileDialog } from "./add-tile-dialog";
import { EDIT_REFUSAL } from "./dashboard-access";
import { DashboardGrid } from "./dashboard-grid";
import { PipelineTileBody } from "./pipeline-tile";
import { QueryTileBody, QueryTileFooter, type TileRun } from "./query-tile";
import { RangePicker, RefreshPicker } from "./range-picker";
import { RefreshLoop } from "./refresh-loop";
import { newQueryId, TILE_ROW_LIMIT, useSavedQueryRunner } from "./saved-query-run";
import { rangeFromUrl, rangeSearch, resolveRange } from "./time-range";
import "./dashboards.css";

// One dashboard: its tiles on the grid under one time range and one refresh period. A refresh runs every query tile
// at once (savedQueries.run, concurrently, not one after another) and reads the dashboard again (a pipeline tile
// learns of a newer run); the refresh loop (refresh-loop.ts) never starts one while another runs and skips while the
// tab is hidden. The range is the saved one unless the address names one (`?last=1h`, `?from=…&to=…`). Editors'
// changes to the range and the period are saved with the dashboard; a viewer's stay in the address and this tab.

type Dashboard = RouterOutputs["dashboards"]["get"];
type Tile = Dashboard["tiles"][number];

/** How long a tile's query may run: a dashboard that waits longer is not one anyone watches. */
const TILE_TIMEOUT_MS = 60_000;

/** Tries a busy refusal again this many times: the server runs only a few files queries at once and refuses more. */
const BUSY_RETRIES = 6;

/** Runs `call`, trying again after a short, growing pause while the server says it is busy (429). */
async function withBusyRetry<T>(call: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      if (errorCode(err) !== "TOO_MANY_REQUESTS" || attempt > BUSY_RETRIES) throw err;
      await new Promise((r) => setTimeout(r, 150 * attempt + Math.random() * 150));
    }
  }
}

function tileTitle(tile: Tile): string {
  if (tile.title) return tile.title;
  return tile.kind === "QUERY" ? tile.savedQuery.name : tile.pipeline.name;
}

function updatedText(at: number | null, now: number): string {
  if (at === null) return "not updated yet";
  const s = Math.max(0, Math.round((now - at) / 1000));
  return s < 60 ? `updated ${s}s ago` : `updated ${formatRelative(at, now)}`;
}

export function DashboardView({ id }: { id: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const router = useRouter();
  const pathname = usePathname();
  const search = useSearchParams();
  const { canEdit, known } = useWorkspaceRole();
  const editRefusal = canEdit || !known ? undefined : EDIT_REFUSAL;
  const board = useQuery(trpc.dashboards.get.queryOptions({ id }));
  const update = useMutation(trpc.dashboards.update.mutationOptions());
  const layout = useMutation(trpc.dashboards.layout.mutationOptions());
  const removeTile = useMutation(trpc.dashboards.removeTile.mutationOptions());
  const runSaved = useSavedQueryRunner();

  const urlRange = useMemo(() => rangeFromUrl(new URLSearchParams(search.toString())), [search]);
  const range: TimeRange | null = urlRange ?? board.data?.timeRange ?? null;
  const [refreshOverride, setRefreshOverride] = useState<number | null>(null);
  const refreshSeconds = refreshOverride ?? board.data?.refreshSeconds ?? 0;
  const [runs, setRuns] = useState<Record<string, TileRun>>({});
  const [updatedAt, setUpdatedAt] = useState<number | null>(null);
  const [arranging, setArranging] = useState(false);
  const [adding, setAdding] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const now = useNow(true, 1000);

  // The loop calls what is current when it fires, not what was current when it was made.
  const rangeRef = useRef(range);
  rangeRef.current = range;
  const refreshAll = useCallback(async () => {
    const fresh = await queryClient.fetchQuery({ ...trpc.dashboards.get.queryOptions({ id }), staleTime: 0 });
    const current = rangeRef.current ?? fresh.timeRange;
    const timeRange = resolveRange(current, Date.now());
    const queryTiles = fresh.tiles.filter((t) => t.kind === "QUERY" && !t.savedQuery.sourceProblem);
    setRuns((prev) => {
      const next: Record<string, TileRun> = {};
      for (const t of queryTiles) next[t.id] = { result: null, error: null, ...prev[t.id], running: true };
      return next;
    });
    await Promise.all(
      queryTiles.map(async (t) => {
        if (t.kind !== "QUERY") return;
        let outcome: TileRun;
        try {
          const result = await withBusyRetry(() =>
            runSaved({
              id: t.savedQuery.id,
              timeRange,
              limit: TILE_ROW_LIMIT,
              timeoutMs: TILE_TIMEOUT_MS,
              queryId: newQueryId(),
            }),
          );
          outcome = { running: false, result, error: null };
        } catch (err) {
          outcome = { running: false, result: null, error: errorMessage(err) };
        }
        setRuns((prev) => ({ ...prev, [t.id]: outcome }));
      }),
    );
    setUpdatedAt(Date.now());
  }, [queryClient, trpc, id, runSaved]);

  const loop = useRef<RefreshLoop | null>(null);
  const refreshRef = useRef(refreshAll);
  refreshRef.current = refreshAll;
  useEffect(() => {
    const l = new RefreshLoop({ run: () => refreshRef.current(), hidden: () => document.hidden });
    loop.current = l;
    const onVisibility = () => l.visibilityChanged();
    document.addEventListener("visibilitychange", onVisibility);
    return () => {
      document.removeEventListener("visibilitychange", onVisibility);
      l.stop();
      loop.current = null;
    };
  }, []);
  const loaded = board.isSuccess;
  useEffect(() => {
    if (loaded) loop.current?.setPeriod(refreshSeconds * 1000);
  }, [loaded, refreshSeconds]);
  // The first load, and every change of range, runs the tiles again.
  const rangeKey = range ? JSON.stringify(range) : null;
  useEffect(() => {
    if (loaded && rangeKey) void loop.current?.refresh();
  }, [loaded, rangeKey]);

  const saveSettings = async (change: { timeRange?: TimeRange; refreshSeconds?: number }) => {
    setProblem(null);
    try {
      const saved = await update.mutateAsync({ id, ...change });
      queryClient.setQueryData(trpc.dashboards.get.queryKey({ id }), saved);
    } catch (err) {
      setProblem(errorMessage(err));
    }
  };
  const chooseRange = (next: TimeRange) => {
    if (canEdit) {
      // Saved with the dashboard; an address override would hide it, so it goes.
      if (urlRange) router.replace(pathname);
      void saveSettings({ timeRange: next });
    } else {
      router.replace(`${pathname}${rangeSearch(next)}`);
    }
  };
  const chooseRefresh = (seconds: number) => {
    if (canEdit) {
      setRefreshOverride(null);
      void saveSettings({ refreshSeconds: seconds });
    } else {
      setRefreshOverride(seconds);
    }
  };

  const tiles = useMemo(
    () => (board.data?.tiles ?? []).map((t) => ({ ...t, title: tileTitle(t), tile: t })),
    [board.data],
  );
  const sendLayout = async (next: typeof tiles) => {
    setProblem(null);
    const key = trpc.dashboards.get.queryKey({ id });
    const before = queryClient.getQueryData(key);
    // Drawn at once where it goes; put back if the API refuses it.
    if (before) {
      const places = new Map(next.map((t) => [t.id, t]));
      queryClient.setQueryData(key, {
        ...before,
        tiles: before.tiles.map((t) => {
          const p = places.get(t.id);
          return p ? { ...t, x: p.x, y: p.y, w: p.w, h: p.h } : t;
        }),
      });
    }
    try {
      const saved = await layout.mutateAsync({
        id,
        tiles: next.map((t) => ({ tileId: t.id, x: t.x, y: t.y, w: t.w, h: t.h })),
      });
      queryClient.setQueryData(key, saved);
    } catch (err) {
      if (before) queryClient.setQueryData(key, before);
      setProblem(errorMessage(err));
    }
  };
  const remove = async (tileId: string) => {
    setProblem(null);
    try {
      await removeTile.mutateAsync({ id, tileId });
      await queryClient.invalidateQueries(trpc.dashboards.get.queryFilter({ id }));
    } catch (err) {
      setProblem(errorMessage(err));
    }
  };

  if (board.isPending) {
    return (
      <main className="page">
        <p className="muted" aria-live="polite">
          Loading the dashboard…
        </p>
      </main>
    );
  }
  if (board.isError) {
    return (
      <main className="page">
        <p className="form-error" role="alert">
          {errorMessage(board.error)}
        </p>
        <Link href="/dashboards">All dashboards</Link>
      </main>
    );
  }
  const data = board.data;

  return (
    <main className="page dashboard-page">
      <div className="page-header">
        <div>
          <p className="page-subtitle">
            <Link href="/dashboards">Dashboards</Link>
          </p>
          <h1 className="page-title">{data.name}</h1>
          {data.description ? <p className="page-subtitle">{data.description}</p> : null}
        </div>
        <div className="page-header-actions">
          <button
            type="button"
            className="button"
            onClick={() => setAdding(true)}
            disabled={!canEdit}
            title={editRefusal}
          >
            Add tile
          </button>
          <button
            type="button"
            className="button"
            aria-pressed={arranging}
            onClick={() => setArranging((a) => !a)}
            disabled={!canEdit || data.tiles.length === 0}
            title={editRefusal}
          >
            {arranging ? "Done arranging" : "Arrange"}
          </button>
        </div>
      </div>

      <div className="dashboard-controls">
        {range ? <RangePicker key={JSON.stringify(range)} value={range} onChange={chooseRange} /> : null}
        <RefreshPicker value={refreshSeconds} onChange={chooseRefresh} />
        <button
          type="button"
          className="button button-small"
          onClick={() => void loop.current?.refresh()}
          aria-label="Refresh now"
        >
          Refresh
        </button>
        <span className="muted" data-testid="dashboard-updated" aria-live="off">
          {Object.values(runs).some((r) => r.running) ? "refreshing…" : updatedText(updatedAt, now)}
        </span>
        {urlRange ? (
          <span className="muted">
            The address sets this range; <Link href={pathname}>use the saved one</Link>.
          </span>
        ) : null}
      </div>
      {problem ? (
        <p className="form-error" role="alert">
          {problem}
        </p>
      ) : null}

      {data.tiles.length === 0 ? (
        <div className="empty-state">
          <h2>No tiles yet</h2>
          <p>A tile draws a saved query's chart over this dashboard's time range, or a pipeline's live figures.</p>
          <button
            type="button"
            className="button button-primary"
            onClick={() => setAdding(true)}
            disabled={!canEdit}
            title={editRefusal}
          >
            Add a tile
          </button>
        </div>
      ) : (
        <DashboardGrid
          tiles={tiles}
          arranging={arranging}
          onLayout={(next) => void sendLayout(next)}
          onRemove={(t) => void remove(t.id)}
          renderTile={({ tile }) =>
            tile.kind === "QUERY"
              ? {
                  body: <QueryTileBody savedQuery={tile.savedQuery} run={runs[tile.id]} />,
                  footer: <QueryTileFooter savedQueryId={tile.savedQuery.id} run={runs[tile.id]} />,
                }
              : { body: <PipelineTileBody tile={tile} /> }
          }
        />
      )}

      <AddTileDialog
        dashboardId={id}
        open={adding}
        onClose={() => setAdding(false)}
        onAdded={() => {
          setAdding(false);
          void loop.current?.refresh();
        }}
      />
    </main>
  );
}
