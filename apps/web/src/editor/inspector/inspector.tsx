"use client";

import { useDeferredValue, useEffect, useMemo, useRef } from "react";
import { BackfillAction } from "@/backfills/backfill-action";
import { DeliveryFact } from "@/components/delivery-fact";
import { NodeIcon } from "@/editor/canvas/node-icon";
import { ConfigForm } from "@/editor/config-form";
import { useCatalog, useEditor, useEditorStore, useRun } from "@/editor/editor-context";
import { DiscoveryAction } from "@/editor/inspector/discovery-action";
import { NodeIdField } from "@/editor/inspector/node-id-field";
import { QueryAction } from "@/editor/inspector/query-action";
import { RecordTail } from "@/editor/inspector/record-tail";
import { WebhookIngest } from "@/editor/inspector/webhook-ingest";
import { issueField, issueText } from "@/editor/issue-text";
import { selectedNodeId } from "@/editor/store/editor-store";
import { useWorkspaceRole } from "@/lib/use-workspace-role";

export function Inspector() {
  // The inspector follows the selection in a background render: the canvas shows a new or newly selected node in
  // the next frame, and building the node's form never holds that frame back.
  const nodeId = useDeferredValue(useEditor(selectedNodeId));
  const selectedCount = useDeferredValue(useEditor((s) => s.nodes.reduce((n, node) => n + (node.selected ? 1 : 0), 0)));
  return (
    <aside className="editor-inspector" aria-label="Inspector">
      {nodeId ? (
        <NodeInspector key={nodeId} nodeId={nodeId} />
      ) : selectedCount > 1 ? (
        <div className="inspector-empty">
          <h2 className="pane-title">{selectedCount} nodes selected</h2>
          <p className="muted">Press Delete to remove them, or select a single node to edit it.</p>
        </div>
      ) : (
        <PipelineOverview />
      )}
    </aside>
  );
}

function PipelineOverview() {
  const nodeCount = useEditor((s) => s.nodes.length);
  const edgeCount = useEditor((s) => s.edges.length);
  const settings = useEditor((s) => s.frame.spec.settings);
  // What the plan gives the draft: lower than the setting when a node cannot do exactly-once.
  const delivery = useEditor((s) => s.validation.delivery);
  const store = useEditorStore();
  return (
    <div className="inspector-empty">
      <h2 className="pane-title">Pipeline</h2>
      <p className="muted">Select a node on the canvas to configure it.</p>
      <dl className="facts">
        <div>
          <dt className="fact-label">Nodes</dt>
          <dd className="fact-value">{nodeCount}</dd>
        </div>
        <div>
          <dt className="fact-label">Connections</dt>
          <dd className="fact-value">{edgeCount}</dd>
        </div>
        <div>
          <dt className="fact-label">Parallelism</dt>
          <dd className="fact-value">{settings.parallelism}</dd>
        </div>
        <div>
          <dt className="fact-label">Delivery</dt>
          <dd className="fact-value" data-testid="draft-delivery">
            {delivery ? (
              <DeliveryFact plan={delivery} onSelectNode={(id) => store.getState().selectNode(id, { focus: true })} />
            ) : (
              settings.delivery
            )}
          </dd>
        </div>
      </dl>
    </div>
  );
}

function NodeInspector({ nodeId }: { nodeId: string }) {
  const catalog = useCatalog();
  const store = useEditorStore();
  // Only the node's data: moving the node on the canvas does not re-render the form.
  const data = useEditor((s) => s.nodes.find((n) => n.id === nodeId)?.data);
  const allIssues = useEditor((s) => s.validation.issues);
  const hasRun = useRun((s) => s.run !== null);
  const focus = useEditor((s) => s.focus);
  const root = useRef<HTMLDivElement>(null);
  const { canEdit, why } = useWorkspaceRole();
  // A problem clicked in the problems panel: focus the field it is about (opening "Advanced" if it is in there).
  useEffect(() => {
    if (!focus || focus.nodeId !== nodeId || !focus.path || !root.current) return;
    const name = String(focus.path[0]);
    const row = root.current.querySelector<HTMLElement>(`[data-config-field="${CSS.escape(name)}"]`);
    if (!row) return;
    const details = row.closest("details");
    if (details) details.open = true;
    row.querySelector<HTMLElement>("input, textarea, select")?.focus();
  }, [focus, nodeId]);
  // Issues about a config field are shown by the form, under the field.
  const nodeIssues = useMemo(
    () =>
      allIssues
        .filter((issue) => issue.nodeId === nodeId && issueField(issue) === null)
        .map((issue) => ({ text: issueText(issue), severity: issue.severity })),
    [allIssues, nodeId],
  );

  if (!data) return null;
  const def = catalog.get(data.type);
  if (!def) {
    return (
      <div className="inspector-empty">
        <h2 className="pane-title">{nodeId}</h2>
        <p className="field-error">Unknown node type “{data.type}”: this installation does not know it.</p>
      </div>
    );
  }
  const { setConfigValue, replaceConfig } = store.getState();
  return (
    <div className="inspector-node" ref={root}>
      <header className={`inspector-head kind-${def.kind}`}>
        <span className="inspector-icon">
          <NodeIcon name={def.icon} kind={def.kind} size={20} />
        </span>
        <div>
          <h2 className="inspector-title">{def.title}</h2>
          <p className="inspector-type">
            {def.type} · {def.kind}
          </p>
        </div>
      </header>
      <p className="inspector-summary">{def.summary}</p>

      {/* Below the editor role the fields show the node's settings and take no input. */}
      <fieldset className="inspector-fields" disabled={!canEdit} title={why("editPipelines")}>
        <section className="inspector-section" aria-label="Node">
          <NodeIdField nodeId={nodeId} />
        </section>
      </fieldset>

      {nodeIssues.length > 0 ? (
        <section className="inspector-section" aria-label="Problems with this node">
          <ul className="issue-list">
            {nodeIssues.map((i) => (
              <li key={i.text} className={`issue issue-${i.severity}`}>
                {i.text}
              </li>
            ))}
          </ul>
        </section>
      ) : null}

      <section className="inspector-section" aria-labelledby={`settings-${nodeId}`}>
        <h3 id={`settings-${nodeId}`} className="section-title">
          Settings
        </h3>
        <DiscoveryAction nodeId={nodeId} def={def} config={data.config} />
        <fieldset className="inspector-fields" disabled={!canEdit} title={why("editPipelines")}>
          <ConfigForm
            def={def}
            config={data.config}
            onChange={(key, value) => setConfigValue(nodeId, key, value)}
            onReplace={(config) => replaceConfig(nodeId, config)}
          />
        </fieldset>
      </section>

      {def.kind === "sink" ? <QueryAction type={def.type} config={data.config} /> : null}
      {def.kind === "sink" ? <BackfillAction nodeId={nodeId} type={def.type} /> : null}
      {hasRun && def.kind === "sink" ? <RecordTail nodeId={nodeId} /> : null}
      {def.type === "source.webhook" ? <WebhookIngest /> : null}

      <details className="inspector-section inspector-docs">
        <summary>About {def.title}</summary>
        {def.docs.split(/\n\s*\n/).map((para) => (
          <p key={para.slice(0, 40)}>{para.replace(/\s*\n\s*/g, " ").replace(/[*`]/g, "")}</p>
        ))}
      </details>
    </div>
  );
}
