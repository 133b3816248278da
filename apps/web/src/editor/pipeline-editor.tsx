"use client";

import type { RunStatus } from "@sluice/pipeline/control/protocol";
import { skipToken, useQuery } from "@tanstack/react-query";
import { ReactFlowProvider } from "@xyflow/react";
import Link from "next/link";
import { type ReactNode, useEffect, useState } from "react";
import { errorCode, errorMessage } from "@/lib/errors";
import { useTRPC } from "@/trpc/react";
import { Canvas } from "./canvas";
import { EditorProvider } from "./editor-context";
import { createEditorStore, type EditorStore, type LoadedPipeline } from "./editor-store";
import { EditorToolbar } from "./editor-toolbar";
import { Inspector } from "./inspector";
import { draftKey } from "./local-draft";
import { type DraftOffer, LocalDraftNotice, openLocalDraft } from "./local-draft-notice";
import { Palette } from "./palette";
import { PreviewPanel } from "./preview-panel";
import { ProblemsPanel } from "./problems-panel";
import { RunLive } from "./run-live";
import type { EditorRuntime } from "./runtime-types";
import { useUnsavedGuard } from "./use-unsaved-guard";

const lower = (status: string) => status.toLowerCase() as RunStatus;

/** The editor of a pipeline, for the signed-in user `userId` (whose unsaved drafts it keeps apart from others'). */
export function PipelineEditor({ pipelineId, userId }: { pipelineId: string; userId: string }) {
  const trpc = useTRPC();
  // Loaded once per visit: gcTime 0 so coming back never starts from a stale version.
  const pipeline = useQuery(
    trpc.pipelines.get.queryOptions({ id: pipelineId }, { staleTime: Number.POSITIVE_INFINITY, gcTime: 0 }),
  );
  // The node catalog, validator and expression functions: a chunk of their own, fetched alongside the pipeline, so
  // the route's first-load bundle stays the same size however many node types there are.
  const runtime = useQuery({
    queryKey: ["editor-runtime"],
    queryFn: async (): Promise<EditorRuntime> => (await import("./editor-runtime")).runtime,
    staleTime: Number.POSITIVE_INFINITY,
  });
  if (runtime.isError) {
    return (
      <main className="page">
        <h1 className="page-title">Cannot load the editor</h1>
        <p className="form-error" role="alert">
          {errorMessage(runtime.error)}
        </p>
      </main>
    );
  }
  if (pipeline.isPending || runtime.isPending) {
    return (
      <div className="editor-loading" aria-live="polite">
        Loading pipeline…
      </div>
    );
  }
  if (pipeline.isError) {
    return (
      <main className="page">
        <h1 className="page-title">
          {errorCode(pipeline.error) === "NOT_FOUND" ? "Pipeline not found" : "Cannot open this pipeline"}
        </h1>
        <p className="form-error" role="alert">
          {errorMessage(pipeline.error)}
        </p>
        <p>
          <Link href="/pipelines">Back to pipelines</Link>
        </p>
      </main>
    );
  }
  return (
    <LoadedEditor
      key={pipeline.data.id}
      userId={userId}
      runtime={runtime.data}
      pipeline={pipeline.data}
      activeRun={pipeline.data.activeRun}
    />
  );
}

function LoadedEditor({
  userId,
  runtime,
  pipeline,
  activeRun,
}: {
  userId: string;
  runtime: EditorRuntime;
  pipeline: LoadedPipeline;
  activeRun: { id: string; status: string } | null;
}) {
  const trpc = useTRPC();
  const storageKey = draftKey(userId, pipeline.id);
  // Unsaved changes kept in the browser (local-draft.ts) are applied before the first render, so the saved version
  // never flashes up first.
  const [[store, draftOffer]] = useState((): [EditorStore, DraftOffer | null] => {
    const s = createEditorStore(runtime, pipeline);
    if (activeRun)
      s.getState().setRun({ id: activeRun.id, status: lower(activeRun.status), counters: {}, error: null });
    return [s, openLocalDraft(s, pipeline, storageKey, runtime.parseDefinition)];
  });
  // No active run: show the final counts of the most recent one.
  const lastRun = useQuery(
    trpc.runs.list.queryOptions(activeRun ? skipToken : { pipelineId: pipeline.id, limit: 1 }, {
      staleTime: Number.POSITIVE_INFINITY,
      gcTime: 0,
    }),
  );
  useEffect(() => {
    const run = lastRun.data?.[0];
    if (!run || store.getState().run !== null) return;
    store.getState().setRun({ id: run.id, status: lower(run.status), counters: run.counters ?? {}, error: run.error });
  }, [lastRun.data, store]);

  // The workspace's connections, so connection fields offer them and names are checked as the user types.
  const connections = useQuery(trpc.connections.list.queryOptions(undefined, { staleTime: 30_000 }));
  useEffect(() => {
    if (!connections.data) return;
    store.getState().setConnections(Object.fromEntries(connections.data.map((c) => [c.name, c.type])));
  }, [connections.data, store]);

  return (
    <EditorProvider store={store} runtime={runtime}>
      <ReactFlowProvider>
        <EditorLayout
          banner={<LocalDraftNotice storageKey={storageKey} saved={pipeline} initialOffer={draftOffer} />}
        />
        <RunLive />
      </ReactFlowProvider>
    </EditorProvider>
  );
}

function EditorLayout({ banner }: { banner: ReactNode }) {
  useUnsavedGuard();
  const [previewOpen, setPreviewOpen] = useState(false);
  return (
    <div className="editor">
      <EditorToolbar previewOpen={previewOpen} onPreview={setPreviewOpen} />
      {banner}
      <div className="editor-body">
        <Palette />
        <main className="editor-center" aria-label="Pipeline graph">
          <Canvas />
          {previewOpen ? <PreviewPanel onClose={() => setPreviewOpen(false)} /> : null}
          <ProblemsPanel />
        </main>
        <Inspector />
      </div>
    </div>
  );
}
