"use client";

import { type DbRunStatus, fromDbStatus } from "@sluice/pipeline/control/run-status";
import { skipToken, useQuery } from "@tanstack/react-query";
import { ReactFlowProvider } from "@xyflow/react";
import Link from "next/link";
import { type ReactNode, useEffect, useState } from "react";
import { errorCode, errorMessage } from "@/lib/errors";
import { TemplateUpgradeBanner } from "@/templates/template-upgrade-banner";
import { useTRPC } from "@/trpc/react";
import { Canvas } from "./canvas/canvas";
import { Palette } from "./canvas/palette";
import { type DraftOffer, LocalDraftNotice, openLocalDraft } from "./dock/local-draft-notice";
import { PreviewPanel } from "./dock/preview-panel";
import { ProblemsPanel } from "./dock/problems-panel";
import { TimeScrubber } from "./dock/time-scrubber";
import { EditorProvider, useEditor } from "./editor-context";
import { EditorToolbar } from "./editor-toolbar";
import { Inspector } from "./inspector/inspector";
import type { EditorRuntime } from "./runtime-types";
import { createEditorStore, type EditorStore, type LoadedPipeline } from "./store/editor-store";
import { draftKey } from "./store/local-draft";
import { RunLive } from "./store/run-live";
import { createRunStore } from "./store/run-store";
import { useEditorRuntime } from "./use-editor-runtime";
import { useUnsavedGuard } from "./use-unsaved-guard";

/** The editor of a pipeline, for the signed-in user `userId` (whose unsaved drafts it keeps apart from others'). */
export function PipelineEditor({ pipelineId, userId }: { pipelineId: string; userId: string }) {
  const trpc = useTRPC();
  // Loaded once per visit: gcTime 0 so coming back never starts from a stale version.
  const pipeline = useQuery(
    trpc.pipelines.get.queryOptions({ id: pipelineId }, { staleTime: Number.POSITIVE_INFINITY, gcTime: 0 }),
  );
  // The node catalog, validator and expression functions: a chunk of their own, fetched alongside the pipeline, so
  // the route's first-load bundle stays the same size however many node types there are.
  const runtime = useEditorRuntime();
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
  activeRun: { id: string; status: DbRunStatus } | null;
}) {
  const trpc = useTRPC();
  const storageKey = draftKey(userId, pipeline.id);
  // Unsaved changes kept in the browser (local-draft.ts) are applied before the first render, so the saved version
  // never flashes up first.
  const [[store, draftOffer]] = useState((): [EditorStore, DraftOffer | null] => {
    const s = createEditorStore(runtime, pipeline);
    return [s, openLocalDraft(s, pipeline, storageKey, runtime.parseDefinition)];
  });
  const [runStore] = useState(() => {
    const r = createRunStore();
    if (activeRun)
      r.getState().setRun({ id: activeRun.id, status: fromDbStatus(activeRun.status), counters: {}, error: null });
    return r;
  });
  // A link to one node (the overview's laggards: `?node=<id>`) opens with it selected and brought into view.
  useEffect(() => {
    const nodeId = new URLSearchParams(window.location.search).get("node");
    if (nodeId && store.getState().nodes.some((n) => n.id === nodeId)) {
      store.getState().selectNode(nodeId, { focus: true });
    }
  }, [store]);
  // No active run: show the final counts of the most recent one.
  const lastRun = useQuery(
    trpc.runs.list.queryOptions(activeRun ? skipToken : { pipelineId: pipeline.id, limit: 1 }, {
      staleTime: Number.POSITIVE_INFINITY,
      gcTime: 0,
    }),
  );
  useEffect(() => {
    const run = lastRun.data?.[0];
    if (!run || runStore.getState().run !== null) return;
    runStore
      .getState()
      .setRun({ id: run.id, status: fromDbStatus(run.status), counters: run.counters ?? {}, error: run.error });
  }, [lastRun.data, runStore]);

  // The workspace's connections, so connection fields offer them and names are checked as the user types.
  const connections = useQuery(trpc.connections.list.queryOptions(undefined, { staleTime: 30_000 }));
  useEffect(() => {
    if (!connections.data) return;
    store.getState().setConnections(Object.fromEntries(connections.data.map((c) => [c.name, c.type])));
  }, [connections.data, store]);

  return (
    <EditorProvider store={store} runStore={runStore} runtime={runtime}>
      <ReactFlowProvider>
        <EditorLayout
          banner={
            <>
              <LocalDraftNotice storageKey={storageKey} saved={pipeline} initialOffer={draftOffer} />
              <TemplateUpgradeBanner pipelineId={pipeline.id} />
            </>
          }
        />
        <RunLive />
      </ReactFlowProvider>
    </EditorProvider>
  );
}

function EditorLayout({ banner }: { banner: ReactNode }) {
  useUnsavedGuard();
  const pipelineId = useEditor((s) => s.pipelineId);
  const [previewOpen, setPreviewOpen] = useState(false);
  return (
    <div className="editor">
      <EditorToolbar previewOpen={previewOpen} onPreview={setPreviewOpen} />
      {banner}
      <div className="editor-body">
        <Palette />
        <main className="editor-center" aria-label="Pipeline graph">
          <Canvas />
          <TimeScrubber pipelineId={pipelineId} />
          {previewOpen ? <PreviewPanel onClose={() => setPreviewOpen(false)} /> : null}
          <ProblemsPanel />
        </main>
        <Inspector />
      </div>
    </div>
  );
}
