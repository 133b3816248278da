"use client";

import { keepPreviousData, useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useEffect, useId, useMemo, useState } from "react";
import type { RouterOutputs } from "@/components/api-types";
import { errorMessage } from "@/lib/errors";
import { useTRPC } from "@/trpc/react";
import { TemplateMarks, usesLabel } from "./template-header";
import { TemplateThumbnail } from "./template-thumbnail";
import "./templates.css";

// The template gallery: built-in templates, the workspace's and the caller's own, searched and filtered on the server.

type TemplateItem = RouterOutputs["templates"]["list"][number];
type Scope = "all" | "built-in" | "workspace" | "mine";

const SEARCH_DEBOUNCE_MS = 250;
const SCOPES: readonly { value: Scope; label: string }[] = [
  { value: "all", label: "All" },
  { value: "built-in", label: "Built in" },
  { value: "workspace", label: "This workspace" },
  { value: "mine", label: "Mine" },
];

/** The value, once it has stopped changing for `ms`. */
function useDebounced<T>(value: T, ms: number): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return settled;
}

export function TemplateGallery() {
  const trpc = useTRPC();
  const searchId = useId();
  const connectorId = useId();
  const [search, setSearch] = useState("");
  const [scope, setScope] = useState<Scope>("all");
  const [tag, setTag] = useState<string | null>(null);
  const [connector, setConnector] = useState("");
  const query = useDebounced(search.trim(), SEARCH_DEBOUNCE_MS);
  const filtered = query !== "" || tag !== null || connector !== "";

  // The scope's templates unfiltered give the tag chips and the connector choices, so they do not vanish as one
  // filters; the list itself is the server's answer to every filter.
  const inScope = useQuery(trpc.templates.list.queryOptions({ scope }, { placeholderData: keepPreviousData }));
  const list = useQuery(
    trpc.templates.list.queryOptions(
      {
        scope,
        ...(query ? { search: query } : {}),
        ...(tag ? { tag } : {}),
        ...(connector ? { connector } : {}),
      },
      { placeholderData: keepPreviousData },
    ),
  );
  const tags = useMemo(
    () =>
      distinct(
        (inScope.data ?? []).flatMap((t) => t.tags),
        tag,
      ),
    [inScope.data, tag],
  );
  const connectors = useMemo(
    () =>
      distinct(
        (inScope.data ?? []).flatMap((t) => t.connectors),
        connector || null,
      ),
    [inScope.data, connector],
  );
  const rows = list.data ?? [];
  const clear = () => {
    setSearch("");
    setTag(null);
    setConnector("");
  };

  return (
    <main className="page">
      <div className="page-header">
        <div>
          <h1 className="page-title">Templates</h1>
          <p className="page-subtitle">Ready-made pipelines: fill in your connections and values, and run.</p>
        </div>
      </div>

      <div className="template-filters">
        <div className="template-filter-row">
          <label htmlFor={searchId} className="visually-hidden">
            Search templates
          </label>
          <input
            id={searchId}
            type="search"
            className="input template-search"
            placeholder="Search templates…"
            value={search}
            onChange={(e) => setSearch(e.target.value)}
            maxLength={100}
          />
          <label htmlFor={connectorId} className="visually-hidden">
            Connector
          </label>
          <select
            id={connectorId}
            className="input template-connector"
            value={connector}
            onChange={(e) => setConnector(e.target.value)}
          >
            <option value="">Any connector</option>
            {connectors.map((c) => (
              <option key={c} value={c}>
                {c}
              </option>
            ))}
          </select>
          <fieldset className="template-scope">
            <legend className="visually-hidden">Show</legend>
            {SCOPES.map((s) => (
              <label key={s.value} className={`template-scope-option${scope === s.value ? " is-current" : ""}`}>
                <input
                  type="radio"
                  name="template-scope"
                  value={s.value}
                  checked={scope === s.value}
                  onChange={() => setScope(s.value)}
                />
                {s.label}
              </label>
            ))}
          </fieldset>
          {list.isFetching && !list.isPending ? (
            <span className="muted" aria-live="polite">
              Searching…
            </span>
          ) : null}
        </div>
        {tags.length > 0 ? (
          <ul className="template-chips" aria-label="Tags">
            {tags.map((t) => (
              <li key={t}>
                <button
                  type="button"
                  className={`template-chip${tag === t ? " is-pressed" : ""}`}
                  aria-pressed={tag === t}
                  onClick={() => setTag(tag === t ? null : t)}
                >
                  {t}
                </button>
              </li>
            ))}
          </ul>
        ) : null}
      </div>

      {list.isPending ? (
        <p className="muted" aria-live="polite">
          Loading templates…
        </p>
      ) : list.isError ? (
        <p className="form-error" role="alert">
          Could not load the templates: {errorMessage(list.error)}
        </p>
      ) : rows.length === 0 && !filtered ? (
        <div className="empty-state">
          <h2>{scope === "all" ? "No templates yet" : "No templates here"}</h2>
          <p>Open a pipeline and choose “Save as template” to share it with your workspace.</p>
        </div>
      ) : rows.length === 0 ? (
        <div className="empty-state">
          <h2>No template matches</h2>
          <p>Try other words, or another tag or connector.</p>
          <button type="button" className="button" onClick={clear}>
            Clear the filters
          </button>
        </div>
      ) : (
        <ul className="template-grid" aria-label="Templates">
          {rows.map((t) => (
            <li key={t.id}>
              <TemplateCard template={t} />
            </li>
          ))}
        </ul>
      )}
    </main>
  );
}

/** The values sorted and once each, with `keep` among them even when no listed template has it. */
function distinct(values: readonly string[], keep: string | null): string[] {
  const set = new Set(values);
  if (keep) set.add(keep);
  return [...set].sort((a, b) => a.localeCompare(b));
}

function TemplateCard({ template: t }: { template: TemplateItem }) {
  return (
    <article className="template-card">
      <TemplateThumbnail thumbnail={t.thumbnail} />
      <div className="template-card-body">
        <h2 className="template-card-title">
          <Link href={`/templates/${t.id}`} className="template-card-link">
            {t.title}
          </Link>
        </h2>
        {t.description ? <p className="template-card-description">{t.description}</p> : null}
        <TemplateMarks template={t} sample />
        <p className="template-card-meta">
          <span>{t.builtIn ? "Built in" : (t.author ?? "Unknown author")}</span>
          <span aria-hidden="true"> · </span>
          <span>v{t.latestVersion}</span>
          <span aria-hidden="true"> · </span>
          <span>{usesLabel(t.uses)}</span>
        </p>
      </div>
    </article>
  );
}
