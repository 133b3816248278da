"use client";

import Link from "next/link";
import { useEditor } from "@/editor/editor-context";
import { useWorkspaceRole } from "@/lib/use-workspace-role";

/**
 * "Backfill…" on a sink.postgres node of a saved pipeline: opens the backfill page for this sink, which replays its
 * sources into a shadow table of its table (see docs/backfills.md).
 */
export function BackfillAction({ nodeId, type }: { nodeId: string; type: string }) {
  const pipelineId = useEditor((s) => s.pipelineId);
  const version = useEditor((s) => s.baseVersion);
  const { can, why } = useWorkspaceRole();
  if (type !== "sink.postgres" || !pipelineId || version < 1) return null;
  const href = `/backfills/new?${new URLSearchParams({ pipeline: pipelineId, sink: nodeId, version: String(version) })}`;
  return (
    <p className="query-action">
      {can("controlRuns") ? (
        <Link
          href={href}
          className="button button-small"
          title="Replay this sink's sources into a shadow table, compare it with the live table, then swap it in"
        >
          Backfill…
        </Link>
      ) : (
        <button type="button" className="button button-small" disabled title={why("controlRuns")}>
          Backfill…
        </button>
      )}
    </p>
  );
}
