"use client";

import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useId, useState } from "react";
import { useEditorStore } from "@/editor/editor-context";
import { errorMessage } from "@/lib/errors";
import { useTRPC } from "@/trpc/react";
import { TemplateUpgradeDialog, type UpgradeDone } from "./template-upgrade-dialog";

// Under the editor's toolbar, for a pipeline made from a template (templates.forPipeline): a banner when the template
// has a newer version, else a quiet line; either opens the upgrade dialog. After an upgrade the editor reloads the
// pipeline's new version, as it does after a save conflict.

const quietStyle = { borderBottom: "1px solid var(--border)", color: "var(--muted)", alignItems: "center" };
const newerStyle = { background: "var(--accent-soft)", borderBottom: "1px solid #c7d2fe", alignItems: "center" };

export function TemplateUpgradeBanner({ pipelineId }: { pipelineId: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const store = useEditorStore();
  const status = useQuery(trpc.templates.forPipeline.queryOptions({ pipelineId }, { staleTime: 60_000 }));
  const [open, setOpen] = useState(false);
  const [done, setDone] = useState<string | null>(null);
  const textId = useId();

  const t = status.data;
  if (!t) return null; // not from a template, its template is gone, or not known yet

  const reload = async ({ toVersion, rolledBack }: UpgradeDone) => {
    const what = `${rolledBack ? "Rolled back" : "Upgraded"} to v${toVersion}`;
    setOpen(false);
    try {
      const fresh = await queryClient.fetchQuery(trpc.pipelines.get.queryOptions({ id: pipelineId }, { staleTime: 0 }));
      store.getState().load(fresh);
    } catch (err) {
      setDone(`${what}, but the editor could not load it (${errorMessage(err)}): reload the page.`);
      return;
    }
    await Promise.all([
      queryClient.invalidateQueries(trpc.templates.forPipeline.queryFilter({ pipelineId })),
      queryClient.invalidateQueries(trpc.templates.upgradePlan.queryFilter()),
      queryClient.invalidateQueries(trpc.pipelines.versions.queryFilter({ id: pipelineId })),
      queryClient.invalidateQueries(trpc.pipelines.list.queryFilter()),
    ]);
    setDone(`${what}; your values were kept.`);
  };

  const newer = t.latestVersion > t.version;
  return (
    <>
      <div className="editor-banner" role="status" style={newer ? newerStyle : quietStyle}>
        <span id={textId}>
          {done ? <strong>{done} </strong> : null}
          {newer ? (
            <>
              Made from template <strong>{t.title}</strong> v{t.version} · version {t.latestVersion} is out —{" "}
            </>
          ) : (
            <>
              From template <strong>{t.title}</strong> v{t.version}
            </>
          )}
        </span>
        <span className="restored-actions">
          <button type="button" className="button button-small" onClick={() => setOpen(true)} aria-describedby={textId}>
            {newer ? "See what changed" : "Versions…"}
          </button>
          {done ? (
            <button
              type="button"
              className="icon-button"
              onClick={() => setDone(null)}
              aria-label="Dismiss the upgrade message"
            >
              ×
            </button>
          ) : null}
        </span>
      </div>
      <TemplateUpgradeDialog open={open} onClose={() => setOpen(false)} pipelineId={pipelineId} onUpgraded={reload} />
    </>
  );
}
