"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useId, useState } from "react";
import type { RouterOutputs } from "@/components/api-types";
import { Dialog } from "@/components/dialog";
import { errorMessage } from "@/lib/errors";
import { formatAbsolute, formatRelative } from "@/lib/format";
import { useWorkspaceRole } from "@/lib/use-workspace-role";
import { useTRPC } from "@/trpc/react";
import { EDIT_REFUSAL } from "./dashboard-access";
import "./dashboards.css";

// The workspace's dashboards: every member opens them; editors make and delete them.

type DashboardItem = RouterOutputs["dashboards"]["list"][number];

export function DashboardList() {
  const trpc = useTRPC();
  const list = useQuery(trpc.dashboards.list.queryOptions());
  const { canEdit, known } = useWorkspaceRole();
  const refusal = canEdit || !known ? undefined : EDIT_REFUSAL;
  const [creating, setCreating] = useState(false);
  const [deleting, setDeleting] = useState<DashboardItem | null>(null);

  const newButton = (label: string, primary: boolean) => (
    <button
      type="button"
      className={primary ? "button button-primary" : "button"}
      onClick={() => setCreating(true)}
      disabled={!canEdit}
      title={refusal}
    >
      {label}
    </button>
  );

  return (
    <main className="page">
      <div className="page-header">
        <div>
          <h1 className="page-title">Dashboards</h1>
          <p className="page-subtitle">
            Saved queries' charts and pipelines' live figures side by side, under one time range, refreshed together.
          </p>
        </div>
        {newButton("New dashboard", true)}
      </div>
      {list.isPending ? (
        <p className="muted" aria-live="polite">
          Loading dashboards…
        </p>
      ) : list.isError ? (
        <p className="form-error" role="alert">
          {errorMessage(list.error)}
        </p>
      ) : list.data.length === 0 ? (
        <div className="empty-state">
          <h2>No dashboards yet</h2>
          <p>A dashboard puts saved queries' charts and running pipelines' figures on one page.</p>
          {newButton("Create a dashboard", true)}
        </div>
      ) : (
        <div className="table-card">
          <table className="table" aria-label="Dashboards">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Tiles</th>
                <th scope="col">By</th>
                <th scope="col">Updated</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.data.map((d) => (
                <tr key={d.id}>
                  <td>
                    <Link className="table-link" href={`/dashboards/${d.id}`}>
                      {d.name}
                    </Link>
                    {d.description ? <div className="table-sub">{d.description}</div> : null}
                  </td>
                  <td>{d.tileCount}</td>
                  <td>{d.author ?? <span className="muted">—</span>}</td>
                  <td className="muted" title={formatAbsolute(d.updatedAt)}>
                    {formatRelative(d.updatedAt)}
                  </td>
                  <td className="cell-actions">
                    <div className="row-actions">
                      <button
                        type="button"
                        className="button button-ghost button-small button-ghost-danger"
                        aria-label={`Delete ${d.name}`}
                        disabled={!canEdit}
                        title={refusal}
                        onClick={() => setDeleting(d)}
                      >
                        Delete
                      </button>
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Dialog open={creating} onClose={() => setCreating(false)} title="New dashboard">
        <CreateDashboardForm onClose={() => setCreating(false)} />
      </Dialog>
      <DeleteDashboardDialog dashboard={deleting} onClose={() => setDeleting(null)} />
    </main>
  );
}

function CreateDashboardForm({ onClose }: { onClose: () => void }) {
  const trpc = useTRPC();
  const router = useRouter();
  const ids = { name: useId(), description: useId() };
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const create = useMutation(
    trpc.dashboards.create.mutationOptions({ onSuccess: ({ id }) => router.push(`/dashboards/${id}`) }),
  );
  return (
    <form
      className="dialog-form"
      onSubmit={(e) => {
        e.preventDefault();
        create.mutate({ name, description });
      }}
    >
      <div className="field">
        <label htmlFor={ids.name} className="field-label">
          Name
        </label>
        <input
          id={ids.name}
          className="input"
          value={name}
          onChange={(e) => setName(e.target.value)}
          maxLength={100}
          autoFocus
          autoComplete="off"
          aria-invalid={create.isError ? true : undefined}
        />
      </div>
      <div className="field">
        <label htmlFor={ids.description} className="field-label">
          Description
        </label>
        <textarea
          id={ids.description}
          className="input"
          value={description}
          onChange={(e) => setDescription(e.target.value)}
          maxLength={2000}
          rows={3}
        />
      </div>
      {create.isError ? (
        <p className="form-error" role="alert">
          {errorMessage(create.error)}
        </p>
      ) : null}
      <div className="dialog-actions">
        <button type="button" className="button" onClick={onClose} disabled={create.isPending}>
          Cancel
        </button>
        <button type="submit" className="button button-primary" disabled={create.isPending}>
          {create.isPending ? "Creating…" : "Create"}
        </button>
      </div>
    </form>
  );
}

function DeleteDashboardDialog({ dashboard, onClose }: { dashboard: DashboardItem | null; onClose: () => void }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const remove = useMutation(
    trpc.dashboards.delete.mutationOptions({
      onSuccess: async () => {
        await queryClient.invalidateQueries(trpc.dashboards.list.queryFilter());
        onClose();
      },
    }),
  );
  return (
    <Dialog
      open={dashboard !== null}
      onClose={onClose}
      title={`Delete “${dashboard?.name ?? ""}”?`}
      role="alertdialog"
      dismissible={!remove.isPending}
      description={<p>Its tiles go with it; the saved queries and pipelines they show stay.</p>}
    >
      {remove.isError ? (
        <p className="form-error" role="alert">
          {errorMessage(remove.error)}
        </p>
      ) : null}
      <div className="dialog-actions">
        <button type="button" className="button" onClick={onClose} disabled={remove.isPending}>
          Cancel
        </button>
        <button
          type="button"
          className="button button-danger"
          disabled={remove.isPending}
          onClick={() => dashboard && remove.mutate({ id: dashboard.id })}
        >
          {remove.isPending ? "Deleting…" : "Delete"}
        </button>
      </div>
    </Dialog>
  );
}
