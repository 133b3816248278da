"use client";

import { type ParameterType, parameterNames } from "@sluice/api/queries/query-parameters";
import { QUERY_LIMITS } from "@sluice/api/queries/query-router.types";
import { skipToken, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useId, useMemo, useRef, useState } from "react";
import type { RouterOutputs } from "@/components/api-types";
import { errorMessage } from "@/lib/errors";
import { useWorkspaceRole } from "@/lib/use-workspace-role";
import { WORKSPACE_HEADER } from "@/lib/workspace-choice";
import { useCurrentWorkspaceId, useTRPC, useTRPCClient } from "@/trpc/react";
import { defaultType, ParameterBar } from "./parameter-bar";
import { FILES_SOURCE, type QueryUrlState, queryHref, sourceFromKey } from "./query-url";
import { ResultChart } from "./result-chart";
import { indexPick, type NamedChartPick, namePick } from "./result-chart-data";
import { formatElapsed, resultSummary, truncationNote } from "./result-format";
import { ResultsGrid } from "./results-grid";
import { type OpenSavedQuery, SaveQueryDialog, type SaveQueryFields } from "./save-query-dialog";
import { type SchemaTable, tableReference } from "./schema-completion";
import { SchemaPanel } from "./schema-panel";
import { SqlEditor, type SqlEditorHandle } from "./sql-editor";
import "./queries.css";

type QueryAnswer = RouterOutputs["queries"]["run"];
type SourceView = RouterOutputs["queries"]["sources"][number];
type SavedQueryView = RouterOutputs["savedQueries"]["get"];

/** The saved query the page has open, as it was last saved: what the editor's text and source are compared with. */
interface OpenSaved extends OpenSavedQuery {
  /** Its source's address name; null when its connection was deleted. */
  sourceKey: string | null;
  sql: string;
}

function openSavedOf(saved: SavedQueryView): OpenSaved {
  return {
    id: saved.id,
    name: saved.name,
    description: saved.description,
    sourceKey: saved.source.kind === "files" ? FILES_SOURCE : saved.source.connectionId,
    sql: saved.sql,
  };
}

const ROW_LIMITS = [100, 1000, 10_000, 100_000] as const;
const TIMEOUTS = [
  { ms: 5000, label: "5 s" },
  { ms: 30_000, label: "30 s" },
  { ms: 120_000, label: "2 min" },
  { ms: 300_000, label: "5 min" },
] as const;
/** The address follows the SQL once typing pauses, not on every key. */
const URL_WRITE_DELAY_MS = 300;
const ELAPSED_TICK_MS = 100;
const NO_TABLES: readonly SchemaTable[] = [];

type Outcome =
  | { kind: "result"; answer: QueryAnswer; sourceName: string; key: number }
  | { kind: "error"; message: string }
  | { kind: "cancelled" };

interface Running {
  queryId: string;
  startedAt: number;
  cancelling: boolean;
}

const keyOf = (source: SourceView) => (source.kind === "files" ? FILES_SOURCE : source.connectionId);

/** The time range a query with `{{from}}` and `{{to}}` starts with. */
const RANGE_DEFAULTS: Readonly<Record<string, string>> = { from: "now-1h", to: "now" };

/** The `{{name}}` parameters of `sql`; none while a placeholder is half typed. */
function namesIn(sql: string, dialect: "postgresql" | "mysql" | "duckdb"): string[] {
  try {
    return parameterNames(sql, dialect);
  } catch {
    return [];
  }
}

/** Saves a response's body as the file its Content-Disposition names. */
async function saveResponse(response: Response, fallbackName: string): Promise<void> {
  const name = /filename="([^"]+)"/.exec(response.headers.get("content-disposition") ?? "")?.[1] ?? fallbackName;
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  link.style.display = "none";
  document.body.append(link);
  link.click();
  link.remove();
  // Revoked later: some browsers read the blob after click() returns.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** The client's name for a query, so it can cancel it; getRandomValues works where randomUUID does not (plain HTTP). */
function newQueryId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Milliseconds since `startedAt`, re-rendered every tick while it is set. */
function useElapsed(startedAt: number | null): number {
  const [now, setNow] = useState(() => performance.now());
  useEffect(() => {
    if (startedAt === null) return;
    setNow(performance.now());
    const timer = setInterval(() => setNow(performance.now()), ELAPSED_TICK_MS);
    return () => clearInterval(timer);
  }, [startedAt]);
  return startedAt === null ? 0 : now - startedAt;
}

/**
 * The query page: pick a source, write SQL, run it (read-only, with a row limit and a timeout), see the rows, download
 * them, save the query with its chart and open saved ones. The source and the SQL, or the saved query open, live in
 * the address (query-url.ts).
 */
export function QueryWorkbench({ initial }: { initial: QueryUrlState }) {
  const trpc = useTRPC();
  const ids = { source: useId(), saved: useId(), limit: useId(), timeout: useId() };
  const { can, why, known } = useWorkspaceRole();
  const canRun = can("runQueries");
  const runRefusal = why("runQueries");
  const canSave = can("saveQueries");
  const saveRefusal = why("saveQueries");

  const sources = useQuery(trpc.queries.sources.queryOptions(undefined, { staleTime: 60_000 }));
  const sourceList = sources.data ?? [];
  const [chosen, setChosen] = useState<string | null>(initial.source);
  const sourceKey = chosen ?? (sourceList[0] ? keyOf(sourceList[0]) : null);
  const selected = sourceList.find((s) => keyOf(s) === sourceKey) ?? null;
  const unknownSource = sources.isSuccess && sourceKey !== null && selected === null;

  const schema = useQuery(
    trpc.queries.schema.queryOptions(selected && canRun ? { source: sourceFromKey(keyOf(selected)) } : skipToken, {
      staleTime: 60_000,
    }),
  );
  const tables = schema.data?.tables ?? NO_TABLES;
  const schemaStatus = !selected
    ? "Choose a source to see its tables."
    : !canRun
      ? (runRefusal ?? null)
      : schema.isPending
        ? "Loading tables…"
        : schema.isError
          ? errorMessage(schema.error)
          : null;

  // The editor owns the text; the ref is read when a run starts (a key press may come before React re-renders).
  const [sql, setSql] = useState(initial.sql);
  const [view, setView] = useState<"table" | "chart">("table");
  // The chart's pick by column names: what a save keeps, and where the chart of the next result starts.
  const [chart, setChart] = useState<NamedChartPick | null>(null);
  const sqlNow = useRef(initial.sql);
  const editor = useRef<SqlEditorHandle>(null);
  const [limit, setLimit] = useState<number>(QUERY_LIMITS.defaultRows);
  const dialect = selected?.dialect ?? "duckdb";
  const paramNames = useMemo(() => namesIn(sql, dialect), [sql, dialect]);
  const [paramValues, setParamValues] = useState<Record<string, string>>(initial.params);
  const [paramTypes, setParamTypes] = useState<Record<string, ParameterType>>(initial.types);
  const typeOf = (name: string) => paramTypes[name] ?? defaultType(name);
  /** The values the parameters named now are run with: a time range starts as the last hour. */
  const shownValues = useMemo(() => {
    const shown: Record<string, string> = {};
    for (const name of paramNames) {
      const type = paramTypes[name] ?? defaultType(name);
      const value = paramValues[name] ?? (type === "timestamp" ? RANGE_DEFAULTS[name] : undefined);
      if (value !== undefined) shown[name] = value;
    }
    return shown;
  }, [paramNames, paramValues, paramTypes]);
  const runParameters = () => {
    const declarations = paramNames.map((name) => ({ name, type: typeOf(name) }));
    const parameters: Record<string, string | number> = {};
    for (const d of declarations) {
      const value = shownValues[d.name];
      // An empty number or time is no value (the server names it); empty text is text.
      if (value === undefined || (value === "" && d.type !== "text")) continue;
      parameters[d.name] = d.type === "number" ? Number(value) : value;
    }
    return { declarations, parameters };
  };
  /** Each parameter with its type, for a save; the values shown become its defaults ("now-1h" stays relative). */
  const savedParameters = () =>
    paramNames.map((name) => {
      const type = typeOf(name);
      const value = shownValues[name];
      const fallback = value === undefined || (value === "" && type !== "text") ? null : value;
      return { name, type, label: name, default: type === "number" && fallback !== null ? Number(fallback) : fallback };
    });
  const workspaceId = useCurrentWorkspaceId();
  const [downloading, setDownloading] = useState<string | null>(null);
  const [downloadError, setDownloadError] = useState<string | null>(null);
  const [timeoutMs, setTimeoutMs] = useState<number>(QUERY_LIMITS.defaultTimeoutMs);

  const queryClient = useQueryClient();
  const savedList = useQuery(trpc.savedQueries.list.queryOptions(undefined, { staleTime: 30_000 }));
  const createSaved = useMutation(trpc.savedQueries.create.mutationOptions());
  const updateSaved = useMutation(trpc.savedQueries.update.mutationOptions());
  const deleteSaved = useMutation(trpc.savedQueries.delete.mutationOptions());
  const [openSaved, setOpenSaved] = useState<OpenSaved | null>(null);
  // The address names a saved query not loaded yet: it is not rewritten until it is, so the link is not lost.
  const [loadingSaved, setLoadingSaved] = useState(initial.saved !== null);
  const [savedNotice, setSavedNotice] = useState<string | null>(null);
  const [saveOpen, setSaveOpen] = useState(false);
  const edited = openSaved !== null && (sql.trim() !== openSaved.sql || sourceKey !== openSaved.sourceKey);

  useEffect(() => {
    if (loadingSaved) return;
    // A saved query unchanged is linked to by its id alone; edits not saved yet ride along beside it.
    const params = shownValues;
    const types = Object.fromEntries(
      paramNames.filter((n) => paramTypes[n] && paramTypes[n] !== defaultType(n)).map((n) => [n, paramTypes[n]!]),
    );
    const href =
      openSaved && !edited
        ? queryHref({ saved: openSaved.id, source: null, sql: "", params, types })
        : queryHref({ saved: openSaved?.id ?? null, source: sourceKey, sql, params, types });
    let pending = true;
    const write = () => {
      if (!pending) return;
      pending = false;
      if (window.location.pathname !== "/query") return;
      if (`${window.location.pathname}${window.location.search}` !== href) {
        window.history.replaceState(window.history.state, "", href);
      }
    };
    const timer = setTimeout(write, URL_WRITE_DELAY_MS);
    // A click that may start a navigation writes the address first: written after, it would undo the navigation.
    document.addEventListener("click", write, true);
    return () => {
      clearTimeout(timer);
      document.removeEventListener("click", write, true);
    };
  }, [sourceKey, sql, openSaved, edited, loadingSaved, paramNames, shownValues, paramTypes]);

  const runQuery = useMutation(trpc.queries.run.mutationOptions());
  const cancelQuery = useMutation(trpc.queries.cancel.mutationOptions());
  const [running, setRunningState] = useState<Running | null>(null);
  const runningNow = useRef<Running | null>(null);
  const setRunning = (next: Running | null) => {
    runningNow.current = next;
    setRunningState(next);
  };
  // A function, so TypeScript does not carry the check at the start of a run past its await.
  const cancelRequested = () => runningNow.current?.cancelling === true;
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const [cancelError, setCancelError] = useState<string | null>(null);
  const elapsed = useElapsed(running?.startedAt ?? null);

  const start = async () => {
    if (runningNow.current !== null || !selected || !canRun) return;
    const text = sqlNow.current.trim();
    if (!text) {
      setOutcome({ kind: "error", message: "Write a query first." });
      return;
    }
    const queryId = newQueryId();
    setCancelError(null);
    setRunning({ queryId, startedAt: performance.now(), cancelling: false });
    try {
      const answer = await runQuery.mutateAsync({
        source: sourceFromKey(keyOf(selected)),
        sql: text,
        limit,
        timeoutMs,
        queryId,
        ...runParameters(),
      });
      setOutcome({ kind: "result", answer, sourceName: selected.name, key: Date.now() });
    } catch (error) {
      setOutcome(cancelRequested() ? { kind: "cancelled" } : { kind: "error", message: errorMessage(error) });
    } finally {
      setRunning(null);
    }
  };

  const cancel = () => {
    const run = runningNow.current;
    if (!run || run.cancelling) return;
    setRunning({ ...run, cancelling: true });
    cancelQuery.mutate(
      { queryId: run.queryId },
      { onError: (error) => setCancelError(`Could not cancel: ${errorMessage(error)}`) },
    );
  };

  // Leaving the page while a query runs cancels it rather than leave it busy on the server until its timeout.
  // The client, not a mutation hook: this runs as the component unmounts.
  const client = useTRPCClient();
  useEffect(
    () => () => {
      const run = runningNow.current;
      if (run && !run.cancelling) client.queries.cancel.mutate({ queryId: run.queryId }).catch(() => undefined);
    },
    [client],
  );

  /** Puts a saved query on the page: its source, its SQL in the editor, its chart. `edits` are the address's own. */
  const showSaved = (
    saved: SavedQueryView,
    edits?: { source: string | null; sql: string; params?: Record<string, string> },
  ) => {
    const text = edits?.sql || saved.sql;
    const savedSource = saved.source.kind === "files" ? FILES_SOURCE : saved.source.connectionId;
    const source = edits?.source ?? savedSource;
    if (source !== null) setChosen(source);
    editor.current?.replace(text);
    sqlNow.current = text;
    setSql(text);
    setChart(saved.chart);
    setView(saved.chart ? "chart" : "table");
    // Its declared types, and its defaults as the values unless the address brings its own.
    setParamTypes(Object.fromEntries(saved.parameters.map((p) => [p.name, p.type])));
    setParamValues({
      ...Object.fromEntries(saved.parameters.filter((p) => p.default !== null).map((p) => [p.name, String(p.default)])),
      ...edits?.params,
    });
    // The result on the page was another query's.
    if (!edits) setOutcome(null);
    setOpenSaved(openSavedOf(saved));
    setSavedNotice(saved.sourceProblem ? `"${saved.name}": ${saved.sourceProblem}.` : null);
  };

  const openSavedQuery = async (id: string) => {
    try {
      showSaved(await queryClient.fetchQuery(trpc.savedQueries.get.queryOptions({ id })));
    } catch (error) {
      setSavedNotice(`Could not open the saved query: ${errorMessage(error)}`);
    }
  };

  // A link to a saved query opens it once, keeping any edits the link carries beside it. Through refs: only the
  // address the page was opened with counts, and showSaved is new on every render.
  const initialRef = useRef(initial);
  const showSavedRef = useRef(showSaved);
  showSavedRef.current = showSaved;
  useEffect(() => {
    const { saved, source, sql: text, params } = initialRef.current;
    if (saved === null) return;
    let stale = false;
    queryClient
      .fetchQuery(trpc.savedQueries.get.queryOptions({ id: saved }))
      .then(
        (found) => {
          if (!stale)
            showSavedRef.current(found, text ? { source, sql: text, params } : { source: null, sql: "", params });
        },
        (error: unknown) => {
          if (!stale) setSavedNotice(`The link names a saved query that cannot be opened: ${errorMessage(error)}`);
        },
      )
      .finally(() => {
        if (!stale) setLoadingSaved(false);
      });
    return () => {
      stale = true;
    };
  }, [queryClient, trpc]);

  const saveQuery = async (as: "update" | "create", fields: SaveQueryFields): Promise<string | null> => {
    if (!selected) return "Choose a source first.";
    const text = sqlNow.current.trim();
    if (!text) return "Write a query first.";
    const body = {
      ...fields,
      source: sourceFromKey(keyOf(selected)),
      sql: text,
      // What the page shows is what is saved: the chart when the chart is shown, else the table.
      chart: view === "chart" && chart ? { ...chart, y: [...chart.y] } : null,
      parameters: savedParameters(),
    };
    try {
      if (as === "update" && openSaved) {
        setOpenSaved(openSavedOf(await updateSaved.mutateAsync({ id: openSaved.id, ...body })));
      } else {
        const { id } = await createSaved.mutateAsync(body);
        setOpenSaved({ id, ...fields, sourceKey: keyOf(selected), sql: text });
      }
      setSavedNotice(null);
      await queryClient.invalidateQueries({ queryKey: trpc.savedQueries.pathKey() });
      return null;
    } catch (error) {
      return errorMessage(error);
    }
  };

  const deleteOpenSaved = async () => {
    if (!openSaved || !window.confirm(`Delete the saved query "${openSaved.name}"? The editor keeps its text.`)) return;
    try {
      await deleteSaved.mutateAsync({ id: openSaved.id });
      setOpenSaved(null);
      setSavedNotice(null);
      await queryClient.invalidateQueries({ queryKey: trpc.savedQueries.pathKey() });
    } catch (error) {
      setSavedNotice(`Could not delete the saved query: ${errorMessage(error)}`);
    }
  };

  /**
   * Downloads the result as a file: the server runs the query again with a download's row limit (a saved query as
   * saved, by its id, when the page shows it unchanged; else the SQL on the page).
   */
  const download = async (format: "csv" | "parquet") => {
    if (!selected || downloading) return;
    const { declarations, parameters } = runParameters();
    const body =
      openSaved && !edited
        ? { saved: openSaved.id, format, values: parameters, timeoutMs }
        : {
            source: sourceFromKey(keyOf(selected)),
            sql: sqlNow.current.trim(),
            format,
            parameters,
            declarations,
            timeoutMs,
          };
    setDownloading(format);
    setDownloadError(null);
    try {
      const response = await fetch("/api/queries/export", {
        method: "POST",
        headers: { "content-type": "application/json", ...(workspaceId ? { [WORKSPACE_HEADER]: workspaceId } : {}) },
        body: JSON.stringify(body),
      });
      if (!response.ok) {
        const failure = (await response.json().catch(() => null)) as { error?: string } | null;
        setDownloadError(`Could not download: ${failure?.error ?? `the server answered ${response.status}`}`);
        return;
      }
      await saveResponse(response, `query.${format}`);
    } catch (error) {
      setDownloadError(`Could not download: ${errorMessage(error)}`);
    } finally {
      setDownloading(null);
    }
  };

  return (
    <main className="page query-page">
      <div className="page-header query-header">
        <div>
          <h1 className="page-title">Query</h1>
          <p className="page-subtitle">
            Read-only SQL over this workspace's PostgreSQL and MariaDB connections and the files its pipelines wrote.
          </p>
        </div>
        <div className="query-header-fields">
          <div className="query-field">
            <label htmlFor={ids.source}>Source</label>
            <select
              id={ids.source}
              className="input input-small query-source"
              value={selected ? keyOf(selected) : ""}
              disabled={!sources.isSuccess}
              onChange={(e) => setChosen(e.target.value)}
            >
              {!selected ? (
                <option value="" disabled>
                  {sources.isPending ? "Loading sources…" : "Choose a source"}
                </option>
              ) : null}
              {sourceList.map((s) => (
                <option key={keyOf(s)} value={keyOf(s)}>
                  {s.kind === "files" ? "Files" : `${s.name} (${s.type === "mariadb" ? "MariaDB" : "PostgreSQL"})`}
                </option>
              ))}
            </select>
          </div>
          <div className="query-field">
            <label htmlFor={ids.saved}>Saved queries</label>
            <select
              id={ids.saved}
              className="input input-small query-saved"
              value={openSaved?.id ?? ""}
              disabled={!savedList.isSuccess}
              onChange={(e) => {
                if (e.target.value) void openSavedQuery(e.target.value);
                else {
                  setOpenSaved(null);
                  setSavedNotice(null);
                }
              }}
            >
              <option value="">
                {savedList.isPending
                  ? "Loading…"
                  : savedList.isError
                    ? "Could not load them"
                    : (savedList.data?.length ?? 0) === 0
                      ? "None saved yet"
                      : "Unsaved query"}
              </option>
              {savedList.data?.map((q) => (
                <option key={q.id} value={q.id} title={q.description || undefined}>
                  {q.sourceProblem ? `${q.name} (source gone)` : q.name}
                </option>
              ))}
            </select>
          </div>
        </div>
      </div>

      {savedNotice ? (
        <p className="form-error query-notice" role="alert">
          {savedNotice}
        </p>
      ) : null}
      {sources.isError ? (
        <p className="form-error query-notice" role="alert">
          {errorMessage(sources.error)}
        </p>
      ) : unknownSource ? (
        <p className="form-error query-notice" role="alert">
          The link names a source this workspace does not have (it may have been deleted); choose another.
        </p>
      ) : null}

      <div className="query-top">
        <SqlEditor
          ref={editor}
          initialDoc={initial.sql}
          dialect={selected?.dialect ?? "duckdb"}
          tables={tables}
          onChange={(doc) => {
            sqlNow.current = doc;
            setSql(doc);
          }}
          onRun={() => void start()}
        />
        <SchemaPanel
          tables={tables}
          status={schemaStatus}
          onPick={(table) => editor.current?.insert(tableReference(table))}
        />
      </div>

      <ParameterBar
        names={paramNames}
        types={paramTypes}
        values={shownValues}
        onType={(name, type) => setParamTypes((prev) => ({ ...prev, [name]: type }))}
        onValue={(name, value) => setParamValues((prev) => ({ ...prev, [name]: value }))}
      />
      <div className="query-toolbar">
        <button
          type="button"
          className="button button-primary"
          disabled={!canRun || !selected || running !== null}
          title={runRefusal ?? "Run (Ctrl+Enter or ⌘+Enter in the editor)"}
          onClick={() => void start()}
        >
          <span className="play-triangle" aria-hidden="true" />
          Run
        </button>
        {running ? (
          <button type="button" className="button button-danger" disabled={running.cancelling} onClick={cancel}>
            {running.cancelling ? "Cancelling…" : "Cancel"}
          </button>
        ) : null}
        <div className="query-field">
          <label htmlFor={ids.limit}>Row limit</label>
          <select
            id={ids.limit}
            className="input input-small"
            value={limit}
            onChange={(e) => setLimit(Number(e.target.value))}
          >
            {ROW_LIMITS.map((n) => (
              <option key={n} value={n}>
                {n.toLocaleString("en-US")}
              </option>
            ))}
          </select>
        </div>
        <div className="query-field">
          <label htmlFor={ids.timeout}>Timeout</label>
          <select
            id={ids.timeout}
            className="input input-small"
            value={timeoutMs}
            onChange={(e) => setTimeoutMs(Number(e.target.value))}
          >
            {TIMEOUTS.map((t) => (
              <option key={t.ms} value={t.ms}>
                {t.label}
              </option>
            ))}
          </select>
        </div>
        <p className="query-status" role="status">
          {running
            ? running.cancelling
              ? "Cancelling…"
              : "Running…"
            : outcome?.kind === "result"
              ? resultSummary(outcome.answer) +
                (outcome.answer.truncated ? `; ${truncationNote(outcome.answer.rows.length)}` : "")
              : outcome?.kind === "cancelled"
                ? "Cancelled."
                : null}
        </p>
        {running ? (
          <span className="query-elapsed" data-testid="query-elapsed">
            {formatElapsed(elapsed)}
          </span>
        ) : null}
        <details className="query-download">
          <summary
            className={`button${outcome?.kind !== "result" || running !== null ? " is-disabled" : ""}`}
            title="Runs the query again on the server, up to 1,000,000 rows, and downloads the file"
          >
            {downloading ? `Downloading ${downloading.toUpperCase()}…` : "Download ▾"}
          </summary>
          <div className="query-download-menu" role="menu">
            {(["csv", "parquet"] as const).map((format) => (
              <button
                key={format}
                type="button"
                role="menuitem"
                className="button button-small"
                disabled={outcome?.kind !== "result" || running !== null || downloading !== null}
                onClick={(e) => {
                  e.currentTarget.closest("details")?.removeAttribute("open");
                  void download(format);
                }}
              >
                {format === "csv" ? "CSV" : "Parquet"}
              </button>
            ))}
          </div>
        </details>
        <button
          type="button"
          className="button"
          disabled={!canSave || !selected}
          title={
            saveRefusal ??
            (openSaved
              ? `Save "${openSaved.name}"${edited ? " (changed since it was saved)" : ""}, or save it as a new query`
              : "Save this query with its chart")
          }
          onClick={() => setSaveOpen(true)}
        >
          Save…
        </button>
        {openSaved ? (
          <button
            type="button"
            className="button button-danger"
            disabled={!canSave || deleteSaved.isPending}
            title={saveRefusal ?? `Delete the saved query "${openSaved.name}"`}
            onClick={() => void deleteOpenSaved()}
          >
            Delete saved
          </button>
        ) : null}
      </div>
      <SaveQueryDialog
        open={saveOpen}
        onClose={() => setSaveOpen(false)}
        current={openSaved}
        onSave={saveQuery}
        parameters={saveOpen ? savedParameters() : []}
      />
      {known && runRefusal ? <p className="muted query-refusal">{runRefusal}</p> : null}
      {downloadError ? (
        <p className="form-error query-notice" role="alert">
          {downloadError}
        </p>
      ) : null}
      {cancelError ? (
        <p className="form-error query-notice" role="alert">
          {cancelError}
        </p>
      ) : null}

      {outcome?.kind === "error" ? (
        <p className="form-error query-error" role="alert">
          {outcome.message}
        </p>
      ) : outcome?.kind === "result" ? (
        <div className={running ? "query-results is-stale" : "query-results"}>
          <div className="query-view-switch" role="radiogroup" aria-label="Show the result as">
            {(["table", "chart"] as const).map((v) => (
              <label key={v} className={view === v ? "is-current" : undefined}>
                <input type="radio" name="query-view" checked={view === v} onChange={() => setView(v)} />
                {v === "table" ? "Table" : "Chart"}
              </label>
            ))}
          </div>
          {view === "table" ? (
            <ResultsGrid key={outcome.key} columns={outcome.answer.columns} rows={outcome.answer.rows} />
          ) : (
            <ResultChart
              key={outcome.key}
              columns={outcome.answer.columns}
              rows={outcome.answer.rows}
              initialPick={chart ? indexPick(outcome.answer.columns, chart) : null}
              onPickChange={(pick) => setChart(pick ? namePick(outcome.answer.columns, pick) : null)}
            />
          )}
        </div>
      ) : (
        <div className="query-results query-results-empty muted">
          {running ? "Running…" : "Run a query to see its rows here."}
        </div>
      )}
    </main>
  );
}
