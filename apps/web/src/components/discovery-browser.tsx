"use client";

import { useQuery } from "@tanstack/react-query";
import { useId, useMemo, useState } from "react";
import { errorMessage } from "@/lib/errors";
import { useTRPC } from "@/trpc/react";
import type { RouterOutputs } from "./api-types";
import { Dialog } from "./dialog";

// Browses what a connection holds (tables, streams, subjects, queues, topics) through `connections.discover`:
// the list with a filter, then one object's fields and a few sample records. Shared by the connections page and
// the editor's inspector, which passes `onUse` to fill a node's config from the chosen object.

export type Discovery = RouterOutputs["connections"]["discover"];
export type DiscoveryObject = Discovery["objects"][number];

/** Sample records shown (and read) per object. */
const SAMPLE_SIZE = 10;

export interface BrowsedConnection {
  id: string;
  name: string;
}

interface DiscoveryBrowserProps {
  /** The connection to browse; null keeps the dialog closed. */
  connection: BrowsedConnection | null;
  onClose: () => void;
  /** Offered as "Use this <kind>" once an object is described; the dialog closes after it. */
  onUse?: (object: DiscoveryObject) => void;
}

export function DiscoveryBrowser({ connection, onClose, onUse }: DiscoveryBrowserProps) {
  return (
    <Dialog
      open={connection !== null}
      onClose={onClose}
      title={connection ? `Browse “${connection.name}”` : "Browse"}
      size="wide"
    >
      {connection ? <BrowserBody connection={connection} onClose={onClose} onUse={onUse} /> : null}
    </Dialog>
  );
}

function BrowserBody({
  connection,
  onClose,
  onUse,
}: {
  connection: BrowsedConnection;
  onClose: () => void;
  onUse: ((object: DiscoveryObject) => void) | undefined;
}) {
  const trpc = useTRPC();
  const filterId = useId();
  const [filter, setFilter] = useState("");
  const [selected, setSelected] = useState<string | null>(null);
  const list = useQuery(
    trpc.connections.discover.queryOptions({ id: connection.id, sample: 0 }, { retry: false, staleTime: 30_000 }),
  );
  const objects = list.data?.objects ?? [];
  const wanted = filter.trim().toLowerCase();
  const shown = useMemo(
    () => (wanted ? objects.filter((o) => o.name.toLowerCase().includes(wanted)) : objects),
    [objects, wanted],
  );
  // Some servers cannot list what they hold (RabbitMQ queues, quiet MQTT topics): an exact name can still be read.
  const lookup = filter.trim();
  const canLookUp = list.isSuccess && lookup.length > 0 && !objects.some((o) => o.name === lookup);

  return (
    <div className="discovery">
      <div className="discovery-list">
        <div className="field">
          <label htmlFor={filterId} className="field-label">
            Filter
          </label>
          <input
            id={filterId}
            className="input"
            type="search"
            value={filter}
            placeholder="Name, or an exact name to look up"
            autoComplete="off"
            onChange={(e) => setFilter(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === "Enter" && canLookUp) {
                e.preventDefault();
                setSelected(lookup);
              }
            }}
          />
        </div>
        {list.isPending ? (
          <p className="muted" aria-live="polite">
            Asking the server what it holds…
          </p>
        ) : list.isError ? (
          <p className="form-error" role="alert">
            {errorMessage(list.error)}
          </p>
        ) : (
          <>
            <p className="muted discovery-count" aria-live="polite">
              {objects.length === 0
                ? "The server lists nothing here. Type an exact name to look it up."
                : shown.length === objects.length
                  ? `${objects.length} ${objects.length === 1 ? "object" : "objects"}`
                  : `${shown.length} of ${objects.length} match`}
            </p>
            {shown.length > 0 ? (
              <div className="discovery-scroll">
                <table className="discovery-table" aria-label={`What ${connection.name} holds`}>
                  <thead>
                    <tr>
                      <th scope="col">Kind</th>
                      <th scope="col">Name</th>
                      <th scope="col" className="num">
                        Rows (approx.)
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {shown.map((o) => (
                      <tr key={`${o.kind}:${o.name}`} className={o.name === selected ? "is-selected" : undefined}>
                        <td className="muted">{o.kind}</td>
                        <td>
                          <button
                            type="button"
                            className="discovery-pick mono"
                            aria-pressed={o.name === selected}
                            onClick={() => setSelected(o.name)}
                          >
                            {o.name}
                          </button>
                        </td>
                        <td className="num muted">{o.rows !== undefined ? o.rows.toLocaleString() : "—"}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            ) : null}
            {canLookUp ? (
              <button
                type="button"
                className="button button-ghost button-small discovery-lookup"
                onClick={() => setSelected(lookup)}
              >
                Look up “{lookup}”
              </button>
            ) : null}
          </>
        )}
      </div>

      <div className="discovery-detail">
        {selected ? (
          <ObjectDetail connectionId={connection.id} name={selected} onUse={onUse} onClose={onClose} />
        ) : (
          <p className="muted discovery-hint">Choose an object to see its fields and a few records.</p>
        )}
      </div>

      <div className="dialog-actions discovery-actions">
        <button type="button" className="button" onClick={onClose}>
          Close
        </button>
      </div>
    </div>
  );
}

function ObjectDetail({
  connectionId,
  name,
  onUse,
  onClose,
}: {
  connectionId: string;
  name: string;
  onUse: ((object: DiscoveryObject) => void) | undefined;
  onClose: () => void;
}) {
  const trpc = useTRPC();
  const headingId = useId();
  const detail = useQuery(
    trpc.connections.discover.queryOptions(
      { id: connectionId, object: name, sample: SAMPLE_SIZE },
      { retry: false, staleTime: 30_000 },
    ),
  );
  if (detail.isPending) {
    return (
      <p className="muted" aria-live="polite">
        Reading “{name}”…
      </p>
    );
  }
  if (detail.isError) {
    return (
      <p className="form-error" role="alert">
        {errorMessage(detail.error)}
      </p>
    );
  }
  const object = detail.data.objects.find((o) => o.name === name) ?? detail.data.objects[0];
  if (!object) {
    return (
      <p className="form-error" role="alert">
        The server described nothing named “{name}”.
      </p>
    );
  }
  const fields = object.fields ?? [];
  const sample = (detail.data.sample ?? []).slice(0, SAMPLE_SIZE);
  return (
    <section aria-labelledby={headingId} className="discovery-object">
      <div className="discovery-object-head">
        <h3 id={headingId} className="discovery-object-title">
          <span className="muted">{object.kind}</span> <span className="mono">{object.name}</span>
        </h3>
        {onUse ? (
          <button
            type="button"
            className="button button-primary button-small"
            onClick={() => {
              onUse(object);
              onClose();
            }}
          >
            Use this {object.kind}
          </button>
        ) : null}
      </div>
      {object.rows !== undefined ? (
        <p className="muted">About {object.rows.toLocaleString()} rows or messages.</p>
      ) : null}

      {fields.length === 0 ? (
        <p className="muted">No fields known (nothing to sample, or the payloads are not JSON objects).</p>
      ) : (
        <div className="discovery-scroll">
          <table className="discovery-table" aria-label={`Fields of ${object.name}`}>
            <thead>
              <tr>
                <th scope="col">Field</th>
                <th scope="col">Type</th>
                <th scope="col">Nullable</th>
              </tr>
            </thead>
            <tbody>
              {fields.map((f) => (
                <tr key={f.name}>
                  <td className="mono">{f.name}</td>
                  <td>{f.type}</td>
                  <td>{f.nullable ? "yes" : "no"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}

      <SampleTable records={sample} fields={fields.map((f) => f.name)} objectName={object.name} />
    </section>
  );
}

function SampleTable({
  records,
  fields,
  objectName,
}: {
  records: readonly Record<string, unknown>[];
  fields: readonly string[];
  objectName: string;
}) {
  if (records.length === 0) return <p className="muted">No sample records.</p>;
  // The described fields first, then any key a record has that they miss.
  const columns = [...fields];
  for (const r of records) for (const k of Object.keys(r)) if (!columns.includes(k)) columns.push(k);
  return (
    <div className="discovery-scroll discovery-sample">
      <table className="discovery-table" aria-label={`Sample records of ${objectName}`}>
        <thead>
          <tr>
            {columns.map((c) => (
              <th key={c} scope="col" className="mono">
                {c}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {records.map((r, i) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: sample records have no identity of their own
            <tr key={i}>
              {columns.map((c) => (
                <td key={c}>
                  <SampleValue value={r[c]} />
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

const MAX_CELL = 120;

function SampleValue({ value }: { value: unknown }) {
  if (value === null || value === undefined) return <span className="muted">null</span>;
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return (
    <span className="mono" title={text.length > MAX_CELL ? text : undefined}>
      {text.length > MAX_CELL ? `${text.slice(0, MAX_CELL)}…` : text}
    </span>
  );
}
