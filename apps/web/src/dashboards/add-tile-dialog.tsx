"use client";

import { useMutation, useQuery } from "@tanstack/react-query";
import { useId, useState } from "react";
import { Dialog } from "@/components/dialog";
import { errorMessage } from "@/lib/errors";
import { useTRPC } from "@/trpc/react";

// "Add tile": a saved query of the workspace (its chart over the dashboard's range) or a pipeline (its newest run's
// live figures). The tile goes to the first free place; arrange it afterwards.

type Kind = "QUERY" | "PIPELINE_FIGURES";

export function AddTileDialog({
  dashboardId,
  open,
  onClose,
  onAdded,
}: {
  dashboardId: string;
  open: boolean;
  onClose: () => void;
  onAdded: () => void;
}) {
  return (
    <Dialog open={open} onClose={onClose} title="Add a tile">
      <AddTileForm dashboardId={dashboardId} onClose={onClose} onAdded={onAdded} />
    </Dialog>
  );
}

function AddTileForm({
  dashboardId,
  onClose,
  onAdded,
}: {
  dashboardId: string;
  onClose: () => void;
  onAdded: () => void;
}) {
  const trpc = useTRPC();
  const ids = { kind: useId(), pick: useId(), title: useId() };
  const [kind, setKind] = useState<Kind>("QUERY");
  const [picked, setPicked] = useState("");
  const [title, setTitle] = useState("");
  const queries = useQuery(trpc.savedQueries.list.queryOptions(undefined, { enabled: kind === "QUERY" }));
  const pipelines = useQuery(
    trpc.pipelines.list.queryOptions({ limit: 200 }, { enabled: kind === "PIPELINE_FIGURES" }),
  );
  const add = useMutation(trpc.dashboards.addTile.mutationOptions({ onSuccess: () => onAdded() }));
  const choices =
    kind === "QUERY"
      ? (queries.data ?? []).map((q) => ({ id: q.id, name: q.name }))
      : (pipelines.data ?? []).map((p) => ({ id: p.id, name: p.name }));
  const loading = kind === "QUERY" ? queries.isPending : pipelines.isPending;

  return (
    <form
      className="dialog-form"
      onSubmit={(e) => {
        e.preventDefault();
        if (!picked) return;
        add.mutate(
          kind === "QUERY"
            ? { id: dashboardId, kind, savedQueryId: picked, title }
            : { id: dashboardId, kind, pipelineId: picked, title },
        );
      }}
    >
      <div className="field">
        <label htmlFor={ids.kind} className="field-label">
          Show
        </label>
        <select
          id={ids.kind}
          className="input"
          value={kind}
          onChange={(e) => {
            setKind(e.target.value as Kind);
            setPicked("");
          }}
        >
          <option value="QUERY">A saved query's chart</option>
          <option value="PIPELINE_FIGURES">A pipeline's live figures</option>
        </select>
      </div>
      <div className="field">
        <label htmlFor={ids.pick} className="field-label">
          {kind === "QUERY" ? "Saved query" : "Pipeline"}
        </label>
        <select id={ids.pick} className="input" value={picked} onChange={(e) => setPicked(e.target.value)} required>
          <option value="" disabled>
            {loading ? "Loading…" : choices.length === 0 ? "None in this workspace yet" : "Choose one"}
          </option>
          {choices.map((c) => (
            <option key={c.id} value={c.id}>
              {c.name}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor={ids.title} className="field-label">
          Title (optional)
        </label>
        <input
          id={ids.title}
          className="input"
          value={title}
          maxLength={100}
          placeholder="The query's or pipeline's name"
          onChange={(e) => setTitle(e.target.value)}
        />
      </div>
      {add.isError ? (
        <p className="form-error" role="alert">
          {errorMessage(add.error)}
        </p>
      ) : null}
      <div className="dialog-actions">
        <button type="button" className="button" onClick={onClose}>
          Cancel
        </button>
        <button type="submit" className="button button-primary" disabled={!picked || add.isPending}>
          {add.isPending ? "Adding…" : "Add tile"}
        </button>
      </div>
    </form>
  );
}
