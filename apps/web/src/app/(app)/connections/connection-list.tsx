"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useState } from "react";
import type { ConnectionItem as ConnectionView } from "@/components/api-types";
import { Dialog } from "@/components/dialog";
import { DiscoveryBrowser } from "@/components/discovery-browser";
import { errorCode, errorMessage } from "@/lib/errors";
import { formatAbsolute, formatRelative } from "@/lib/format";
import { useWorkspaceRole } from "@/lib/use-workspace-role";
import { useTRPC } from "@/trpc/react";
import { ConnectionForm, TestOutcome, type TestResult } from "./connection-form";

// The workspace's connections: named settings (host, user, …) that pipelines refer to by name. Secrets are
// write-only: the page only ever learns whether one is set. Every member sees them; editors test and browse them;
// admins and owners make, change and delete them.

type Editing = { mode: "create" } | { mode: "edit"; connection: ConnectionView };

export function ConnectionList() {
  const trpc = useTRPC();
  const list = useQuery(trpc.connections.list.queryOptions());
  const types = useQuery(trpc.connections.types.queryOptions(undefined, { staleTime: Number.POSITIVE_INFINITY }));
  const [editing, setEditing] = useState<Editing | null>(null);
  const [deleting, setDeleting] = useState<ConnectionView | null>(null);
  const [browsing, setBrowsing] = useState<ConnectionView | null>(null);
  const [tests, setTests] = useState<Record<string, TestResult | "pending">>({});
  const test = useMutation(trpc.connections.test.mutationOptions());
  const titleOf = (type: string) => types.data?.find((t) => t.type === type)?.title ?? type;
  const canDiscover = (type: string) => types.data?.find((t) => t.type === type)?.canDiscover === true;
  const { why } = useWorkspaceRole();
  const manageRefusal = why("manageConnections");
  const useRefusal = why("useConnections");

  const runTest = async (c: ConnectionView) => {
    setTests((t) => ({ ...t, [c.id]: "pending" }));
    try {
      const result = await test.mutateAsync({ id: c.id });
      setTests((t) => ({ ...t, [c.id]: result }));
    } catch (err) {
      setTests((t) => ({
        ...t,
        [c.id]: { ok: false, problem: "other", message: errorMessage(err), elapsedMs: 0 },
      }));
    }
  };

  return (
    <main className="page">
      <div className="page-header">
        <div>
          <h1 className="page-title">Connections</h1>
          <p className="page-subtitle">
            Servers and credentials your pipelines read from and write to, referred to by name. Passwords are stored
            encrypted and never shown again.
          </p>
        </div>
        <button
          type="button"
          className="button button-primary"
          onClick={() => setEditing({ mode: "create" })}
          disabled={!types.isSuccess || types.data.length === 0 || manageRefusal !== undefined}
          title={manageRefusal}
        >
          New connection
        </button>
      </div>

      {list.isPending ? (
        <p className="muted" aria-live="polite">
          Loading connections…
        </p>
      ) : list.isError ? (
        <p className="form-error" role="alert">
          {errorMessage(list.error)}
        </p>
      ) : list.data.length === 0 ? (
        <div className="empty-state">
          <h2>No connections yet</h2>
          <p>
            A connection names a server and how to sign in to it
            {types.data && types.data.length > 0 ? ` (${types.data.map((t) => t.title).join(", ")})` : ""}. Sources and
            sinks pick one by name.
          </p>
          <button
            type="button"
            className="button button-primary"
            onClick={() => setEditing({ mode: "create" })}
            disabled={!types.isSuccess || types.data.length === 0 || manageRefusal !== undefined}
            title={manageRefusal}
          >
            Create a connection
          </button>
        </div>
      ) : (
        <div className="table-card">
          <table className="table" aria-label="Connections">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Type</th>
                <th scope="col">Used by</th>
                <th scope="col">Updated</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.data.map((c) => {
                const outcome = tests[c.id];
                return (
                  <tr key={c.id} data-testid={`connection-${c.name}`}>
                    <td>
                      <span className="table-link mono">{c.name}</span>
                      {outcome ? (
                        <div className="table-sub">
                          {outcome === "pending" ? (
                            <span className="muted">Testing…</span>
                          ) : (
                            <TestOutcome result={outcome} />
                          )}
                        </div>
                      ) : null}
                    </td>
                    <td>
                      {titleOf(c.type)}
                      {!c.knownType ? (
                        <div className="table-sub table-sub-error">unknown to this installation</div>
                      ) : null}
                    </td>
                    <td>
                      {c.usedBy.length === 0 ? (
                        <span className="muted">No pipeline</span>
                      ) : (
                        <ul className="used-by">
                          {c.usedBy.map((u) => (
                            <li key={u.pipelineId}>
                              <Link href={`/pipelines/${u.pipelineId}`}>{u.pipelineName}</Link>{" "}
                              <span className="muted">({u.nodes.join(", ")})</span>
                            </li>
                          ))}
                        </ul>
                      )}
                    </td>
                    <td className="muted" title={formatAbsolute(c.updatedAt)}>
                      {formatRelative(c.updatedAt)}
                    </td>
                    <td className="cell-actions">
                      <div className="row-actions">
                        <button
                          type="button"
                          className="button button-ghost button-small"
                          aria-label={`Test ${c.name}`}
                          disabled={outcome === "pending" || !c.knownType || useRefusal !== undefined}
                          title={useRefusal}
                          onClick={() => void runTest(c)}
                        >
                          Test
                        </button>
                        {canDiscover(c.type) ? (
                          <button
                            type="button"
                            className="button button-ghost button-small"
                            aria-label={`Browse ${c.name}`}
                            disabled={useRefusal !== undefined}
                            title={useRefusal}
                            onClick={() => setBrowsing(c)}
                          >
                            Browse
                          </button>
                        ) : null}
                        <button
                          type="button"
                          className="button button-ghost button-small"
                          aria-label={`Edit ${c.name}`}
                          disabled={!c.knownType || manageRefusal !== undefined}
                          title={manageRefusal}
                          onClick={() => setEditing({ mode: "edit", connection: c })}
                        >
                          Edit
                        </button>
                        <button
                          type="button"
                          className="button button-ghost button-small button-ghost-danger"
                          aria-label={`Delete ${c.name}`}
                          disabled={manageRefusal !== undefined}
                          title={manageRefusal}
                          onClick={() => setDeleting(c)}
                        >
                          Delete
                        </button>
                      </div>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}

      <Dialog
        open={editing !== null}
        onClose={() => setEditing(null)}
        title={editing?.mode === "edit" ? `Edit “${editing.connection.name}”` : "New connection"}
      >
        {editing && types.data ? (
          <ConnectionForm
            types={types.data}
            connection={editing.mode === "edit" ? editing.connection : null}
            onClose={() => setEditing(null)}
          />
        ) : null}
      </Dialog>
      <DeleteConnectionDialog connection={deleting} onClose={() => setDeleting(null)} />
      <DiscoveryBrowser connection={browsing} onClose={() => setBrowsing(null)} />
    </main>
  );
}

function DeleteConnectionDialog({ connection, onClose }: { connection: ConnectionView | null; onClose: () => void }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const remove = useMutation(
    trpc.connections.delete.mutationOptions({
      onSuccess: async () => {
        await queryClient.invalidateQueries(trpc.connections.list.queryFilter());
        onClose();
        remove.reset();
      },
    }),
  );
  const close = () => {
    onClose();
    remove.reset();
  };
  const uses = connection?.usedBy ?? [];
  // Refused because pipelines use it: the person may still go ahead, knowing what breaks.
  const refusedInUse = errorCode(remove.error) === "PRECONDITION_FAILED";
  return (
    <Dialog
      open={connection !== null}
      onClose={close}
      title={`Delete “${connection?.name ?? ""}”?`}
      role="alertdialog"
      dismissible={!remove.isPending}
      description={
        uses.length > 0 ? (
          <>
            <p>These pipelines use it; their next runs fail until a connection with this name exists again:</p>
            <ul className="used-by used-by-dialog">
              {uses.map((u) => (
                <li key={u.pipelineId}>
                  <strong>{u.pipelineName}</strong> <span className="muted">(nodes {u.nodes.join(", ")})</span>
                </li>
              ))}
            </ul>
          </>
        ) : (
          <p>No pipeline uses it. Its settings and stored secrets are deleted.</p>
        )
      }
    >
      {remove.error ? (
        <p className="form-error" role="alert">
          {errorMessage(remove.error)}
        </p>
      ) : null}
      <div className="dialog-actions">
        <button type="button" className="button" onClick={close} disabled={remove.isPending}>
          Cancel
        </button>
        <button
          type="button"
          className="button button-danger"
          disabled={remove.isPending || connection === null}
          onClick={() => connection && remove.mutate({ id: connection.id, force: uses.length > 0 || refusedInUse })}
        >
          {remove.isPending ? "Deleting…" : uses.length > 0 ? "Delete anyway" : "Delete connection"}
        </button>
      </div>
    </Dialog>
  );
}
