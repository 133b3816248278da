"use client";

import { keepPreviousData, useMutation, useQuery } from "@tanstack/react-query";
import { lazy, Suspense, useId, useState } from "react";
import type { RouterOutputs } from "@/components/api-types";
import { Dialog } from "@/components/dialog";
import { useCatalog, useEditor } from "@/editor/editor-context";
import { isDirty } from "@/editor/store/editor-store";
import { errorMessage } from "@/lib/errors";
import { useWorkspaceRole } from "@/lib/use-workspace-role";
import { useTRPC } from "@/trpc/react";
import {
  localEditItems,
  missingValues,
  parameterChangeText,
  parameterResultText,
  upgradeValues,
  upgradeVerb,
  versionOptionLabel,
} from "./template-upgrade";

// Moving a pipeline to another version of its template (templates.upgradePlan → templates.upgrade): which version,
// what the template changed (drawn as a graph diff), what happens to each parameter, the owner's edits that will be
// replaced, and values for what could not be carried over. The upgrade saves a new pipeline version on the server;
// the editor then reloads it (onUpgraded).

// The diff canvas loads when the dialog first shows one, not with the editor.
const VersionDiffView = lazy(() =>
  import("@/editor/dock/version-diff-view").then((m) => ({ default: m.VersionDiffView })),
);

type UpgradePlan = RouterOutputs["templates"]["upgradePlan"];

/** What the editor is told after an upgrade: the template version moved to, and whether it was a roll back. */
export interface UpgradeDone {
  toVersion: number;
  rolledBack: boolean;
}

function ParametersTable({
  plan,
  texts,
  onText,
}: {
  plan: UpgradePlan;
  texts: Readonly<Record<string, string>>;
  onText: (name: string, text: string) => void;
}) {
  const id = useId();
  const declared = new Map(plan.after.spec.parameters.map((p) => [p.name, p]));
  if (plan.parameters.length === 0) return <p className="muted">Neither version has parameters.</p>;
  return (
    <table className="versions-table" aria-label="Parameters">
      <thead>
        <tr>
          <th scope="col">Parameter</th>
          <th scope="col">What happened</th>
          <th scope="col">Value</th>
          <th scope="col">Why it was dropped</th>
          <th scope="col">New value</th>
        </tr>
      </thead>
      <tbody>
        {plan.parameters.map((p) => {
          const declaration = declared.get(p.name);
          return (
            <tr key={p.name} data-testid={`upgrade-parameter-${p.name}`}>
              <th scope="row" className="mono">
                {p.name}
              </th>
              <td>{parameterChangeText(p)}</td>
              <td className="mono">{parameterResultText(p)}</td>
              <td>{p.dropped ?? ""}</td>
              <td>
                {declaration && p.change !== "removed" ? (
                  <>
                    <label htmlFor={`${id}-${p.name}`} className="visually-hidden">
                      Value for {p.name}
                    </label>
                    <input
                      id={`${id}-${p.name}`}
                      className="input input-small"
                      value={texts[p.name] ?? ""}
                      onChange={(e) => onText(p.name, e.target.value)}
                      required={p.needsValue}
                      aria-required={p.needsValue}
                      placeholder={p.needsValue ? `a ${declaration.type} (required)` : "keep"}
                      autoComplete="off"
                      spellCheck={false}
                    />
                  </>
                ) : null}
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

function UpgradeBody({
  pipelineId,
  onClose,
  onUpgraded,
}: {
  pipelineId: string;
  onClose: () => void;
  onUpgraded: (done: UpgradeDone) => Promise<void>;
}) {
  const trpc = useTRPC();
  const catalog = useCatalog();
  const role = useWorkspaceRole();
  const dirty = useEditor(isDirty);
  const selectId = useId();
  const warningId = useId();
  // null: the latest, whatever it is when the plan is read.
  const [chosen, setChosen] = useState<number | null>(null);
  const [texts, setTexts] = useState<Record<string, string>>({});
  const plan = useQuery(
    trpc.templates.upgradePlan.queryOptions(chosen === null ? { pipelineId } : { pipelineId, toVersion: chosen }, {
      staleTime: 0,
      placeholderData: keepPreviousData,
    }),
  );
  const upgrade = useMutation(trpc.templates.upgrade.mutationOptions());

  if (plan.isError) {
    return (
      <p className="form-error" role="alert">
        Could not read the upgrade: {errorMessage(plan.error)}
      </p>
    );
  }
  if (!plan.data) return <p className="muted">Reading the template's versions…</p>;

  const p = plan.data;
  const verb = upgradeVerb(p.fromVersion, p.toVersion);
  const values = upgradeValues(p.after.spec.parameters, texts);
  const missing = missingValues(p.parameters, values);
  const edits = p.localEdits ? localEditItems(p.localEdits) : [];
  const refusal = dirty
    ? "Save or discard your changes first"
    : (role.why("useTemplates") ?? (missing.length > 0 ? `Give a value for ${missing.join(", ")} first` : undefined));

  const submit = async () => {
    try {
      await upgrade.mutateAsync({
        pipelineId,
        toVersion: p.toVersion,
        baseVersion: p.pipelineVersion,
        values,
      });
    } catch {
      void plan.refetch(); // a conflict: the plan is read again against the newer version
      return; // shown from upgrade.error
    }
    await onUpgraded({ toVersion: p.toVersion, rolledBack: verb === "Roll back" });
  };

  return (
    <div className="template-upgrade">
      <div className="versions-pickers">
        <label htmlFor={selectId} className="field-label">
          Template version
        </label>
        <select
          id={selectId}
          className="input"
          value={chosen ?? p.toVersion}
          onChange={(e) => {
            upgrade.reset();
            setChosen(Number(e.target.value));
          }}
        >
          {[...p.versions]
            .sort((a, b) => b.number - a.number)
            .map((v) => (
              <option key={v.number} value={v.number}>
                {versionOptionLabel(v.number, p.fromVersion, p.latestVersion)}
                {v.message ? ` — ${v.message}` : ""}
              </option>
            ))}
        </select>
        {plan.isFetching ? <span className="muted">Reading…</span> : null}
      </div>

      <section aria-label="What the template changed">
        <h3 className="field-label">
          What the template changed from v{p.fromVersion} to v{p.toVersion}
        </h3>
        <Suspense fallback={<p className="muted diff-loading">Drawing the changes…</p>}>
          <VersionDiffView
            before={p.before}
            after={p.after}
            beforeLabel={`v${p.fromVersion}`}
            afterLabel={`v${p.toVersion}`}
            catalog={catalog}
          />
        </Suspense>
      </section>

      <section aria-label="Parameters" style={{ marginTop: 16 }}>
        <h3 className="field-label">Parameters</h3>
        <ParametersTable plan={p} texts={texts} onText={(name, text) => setTexts((t) => ({ ...t, [name]: text }))} />
      </section>

      {edits.length > 0 ? (
        <div
          id={warningId}
          className="editor-banner"
          role="alert"
          style={{ background: "var(--warning-soft)", color: "var(--warning)", marginTop: 16, borderRadius: 8 }}
        >
          <span>
            Your changes since v{p.fromVersion} will be replaced: {edits.join("; ")}.
          </span>
        </div>
      ) : null}

      {dirty || missing.length > 0 ? (
        <p className="field-hint">
          {dirty ? "Save or discard your changes first" : `Give a value for ${missing.join(", ")} first`}: the{" "}
          {verb === "Upgrade" ? "upgrade" : "roll back"} saves a new version of the pipeline.
        </p>
      ) : null}

      {upgrade.error ? (
        <p className="form-error" role="alert">
          {errorMessage(upgrade.error)}
        </p>
      ) : null}

      <div className="dialog-actions">
        <button type="button" className="button" onClick={onClose}>
          Cancel
        </button>
        <button
          type="button"
          className="button button-primary"
          disabled={refusal !== undefined || upgrade.isPending || plan.isFetching}
          title={refusal}
          aria-describedby={edits.length > 0 ? warningId : undefined}
          onClick={() => void submit()}
        >
          {upgrade.isPending ? `${verb === "Upgrade" ? "Upgrading" : "Rolling back"}…` : `${verb} to v${p.toVersion}`}
        </button>
      </div>
    </div>
  );
}

/** "Upgrade from template": moves the editor's pipeline to another version of its template. */
export function TemplateUpgradeDialog({
  open,
  onClose,
  pipelineId,
  onUpgraded,
}: {
  open: boolean;
  onClose: () => void;
  pipelineId: string;
  /** Called once the new pipeline version is saved; the dialog stays open until it settles. */
  onUpgraded: (done: UpgradeDone) => Promise<void>;
}) {
  return (
    <Dialog open={open} onClose={onClose} title="Upgrade from template" size="wide">
      <UpgradeBody pipelineId={pipelineId} onClose={onClose} onUpgraded={onUpgraded} />
    </Dialog>
  );
}
