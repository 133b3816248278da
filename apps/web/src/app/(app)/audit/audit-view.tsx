"use client";

import { useInfiniteQuery, useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useId, useMemo, useState } from "react";
import type { RouterOutputs } from "@/components/api-types";
import { errorMessage } from "@/lib/errors";
import { formatAbsolute, formatIso } from "@/lib/format";
import { useWorkspaceRole } from "@/lib/use-workspace-role";
import { useCurrentWorkspaceId, useTRPC } from "@/trpc/react";

type Entry = RouterOutputs["audit"]["list"]["entries"][number];
/** What the list and the export are narrowed by. */
interface Filter {
  action?: string;
  actorId?: string;
  from?: Date;
  to?: Date;
}

/** What the action filter offers: everything, a kind of object (a router's prefix), or one action. */
const ACTION_CHOICES = [
  { value: "", label: "All actions" },
  { value: "pipelines.", label: "Pipelines" },
  { value: "runs.", label: "Runs" },
  { value: "runs.start", label: "Runs started" },
  { value: "runs.stop", label: "Runs stopped" },
  { value: "connections.", label: "Connections" },
  { value: "schedules.", label: "Schedules" },
  { value: "alerts.", label: "Alerts" },
  { value: "members.", label: "Members" },
  { value: "invitations.", label: "Invitations" },
  { value: "tokens.", label: "API tokens" },
  { value: "ingest.", label: "Ingest tokens" },
  { value: "workspaces.", label: "Workspace" },
] as const;

/** "pipelines.saveVersion" → "saved version" where a verb is known; the path itself otherwise. */
const VERBS: Record<string, string> = {
  create: "created",
  createPersonal: "created a personal token",
  createWorkspace: "created a workspace token",
  update: "changed",
  rename: "renamed",
  duplicate: "duplicated",
  saveVersion: "saved a version of",
  delete: "deleted",
  start: "started",
  stop: "stopped",
  pause: "paused",
  resume: "resumed",
  restart: "restarted",
  revoke: "revoked",
  setRole: "changed the role of",
  remove: "removed",
  leave: "left",
  accept: "accepted",
  transferOwnership: "handed over",
  silence: "silenced",
  unsilence: "lifted the silence on",
  replayDeadLetters: "replayed dead letters of",
  discardDeadLetters: "discarded dead letters of",
  fixDeadLetters: "fixed dead letters of",
  fixDeadLetter: "fixed a dead letter of",
  preview: "previewed",
  test: "tested",
  discover: "browsed",
  fireNow: "fired",
};

function verbOf(action: string): string {
  return VERBS[action.split(".")[1] ?? ""] ?? action;
}

/** Where an entry's object lives in the app, while it exists. */
function targetHref(entry: Entry): string | null {
  if (!entry.targetId) return null;
  switch (entry.targetType) {
    case "pipeline":
      return `/pipelines/${entry.targetId}`;
    case "run":
      return `/runs/${entry.targetId}`;
    case "connection":
      return `/connections/${entry.targetId}`;
    default:
      return null;
  }
}

function Details({ details }: { details: Entry["details"] }) {
  if (!details) return null;
  return (
    <div className="table-sub">
      {Object.entries(details)
        .map(([k, v]) => `${k}: ${String(v)}`)
        .join(" · ")}
    </div>
  );
}

function Row({ entry }: { entry: Entry }) {
  const href = targetHref(entry);
  const name = entry.targetName ?? entry.targetId ?? "";
  return (
    <tr>
      <td title={formatIso(entry.at)}>{formatAbsolute(entry.at)}</td>
      <td>
        {entry.actorName}
        {entry.via === "token" ? (
          <div className="table-sub">with API token “{entry.tokenName ?? entry.tokenId}”</div>
        ) : null}
      </td>
      <td>
        <span>{verbOf(entry.action)}</span>{" "}
        {entry.targetType ? <span className="muted">{entry.targetType}</span> : null}{" "}
        {href ? (
          <Link href={href} className="table-link">
            {name}
          </Link>
        ) : (
          <span>{name}</span>
        )}
        <div className="table-sub mono">{entry.action}</div>
        <Details details={entry.details} />
      </td>
      <td className="mono muted">{entry.address ?? ""}</td>
    </tr>
  );
}

/** A date input's value (local day) as the start of that day, or of the next for an upper bound. */
function dayBound(value: string, next: boolean): Date | undefined {
  if (!value) return undefined;
  const d = new Date(`${value}T00:00:00`);
  if (Number.isNaN(d.getTime())) return undefined;
  if (next) d.setDate(d.getDate() + 1);
  return d;
}

function exportHref(workspaceId: string, format: "csv" | "json", filter: Filter): string {
  const params = new URLSearchParams({ workspace: workspaceId, format });
  if (filter.action) params.set("action", filter.action);
  if (filter.actorId) params.set("actorId", filter.actorId);
  if (filter.from) params.set("from", filter.from.toISOString());
  if (filter.to) params.set("to", filter.to.toISOString());
  return `/api/audit/export?${params}`;
}

/** The workspace's audit log: who did what and when, newest first, filtered, a page at a time, exportable. */
export function AuditView() {
  const trpc = useTRPC();
  const workspaceId = useCurrentWorkspaceId();
  const { can, why, known } = useWorkspaceRole();
  const allowed = can("readAuditLog");
  const ids = { action: useId(), actor: useId(), from: useId(), to: useId() };
  const [action, setAction] = useState("");
  const [actorId, setActorId] = useState("");
  const [from, setFrom] = useState("");
  const [to, setTo] = useState("");
  const filter = useMemo<Filter>(
    () => ({
      action: action || undefined,
      actorId: actorId || undefined,
      from: dayBound(from, false),
      to: dayBound(to, true),
    }),
    [action, actorId, from, to],
  );
  const members = useQuery({ ...trpc.members.list.queryOptions(), enabled: allowed });
  const pages = useInfiniteQuery({
    ...trpc.audit.list.infiniteQueryOptions(
      { ...filter, limit: 50 },
      { getNextPageParam: (last) => last.next ?? undefined },
    ),
    enabled: allowed,
  });
  const entries = pages.data?.pages.flatMap((p) => p.entries) ?? [];
  const rangeWrong = filter.from && filter.to && filter.from >= filter.to;

  if (known && !allowed) {
    return (
      <main className="page">
        <h1 className="page-title">Audit log</h1>
        <p className="muted">{why("readAuditLog")}</p>
      </main>
    );
  }
  return (
    <main className="page">
      <div className="page-header">
        <div>
          <h1 className="page-title">Audit log</h1>
          <p className="page-subtitle">
            Who changed, started, stopped, deleted, invited, granted and revoked what, and when.
          </p>
        </div>
        {workspaceId ? (
          <div className="page-header-actions">
            <a className="button" href={exportHref(workspaceId, "csv", filter)} download>
              Export CSV
            </a>
            <a className="button" href={exportHref(workspaceId, "json", filter)} download>
              Export JSON
            </a>
          </div>
        ) : null}
      </div>

      <div className="list-toolbar">
        <label htmlFor={ids.action}>Action</label>
        <select id={ids.action} className="input" value={action} onChange={(e) => setAction(e.target.value)}>
          {ACTION_CHOICES.map((c) => (
            <option key={c.value} value={c.value}>
              {c.label}
            </option>
          ))}
        </select>
        <label htmlFor={ids.actor}>Who</label>
        <select id={ids.actor} className="input" value={actorId} onChange={(e) => setActorId(e.target.value)}>
          <option value="">Everyone</option>
          {(members.data ?? []).map((m) => (
            <option key={m.userId} value={m.userId}>
              {m.email}
            </option>
          ))}
        </select>
        <label htmlFor={ids.from}>From</label>
        <input id={ids.from} type="date" className="input" value={from} onChange={(e) => setFrom(e.target.value)} />
        <label htmlFor={ids.to}>To</label>
        <input id={ids.to} type="date" className="input" value={to} onChange={(e) => setTo(e.target.value)} />
      </div>

      {rangeWrong ? (
        <p className="form-error" role="alert">
          The “From” day must come before the “To” day.
        </p>
      ) : pages.isPending ? (
        <p className="muted" aria-live="polite">
          Loading the audit log…
        </p>
      ) : pages.isError ? (
        <p className="form-error" role="alert">
          {errorMessage(pages.error)}
        </p>
      ) : entries.length === 0 ? (
        <p className="muted list-none">Nothing recorded that matches.</p>
      ) : (
        <div className="table-card">
          <table className="table" aria-label="Audit log">
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Who</th>
                <th scope="col">What</th>
                <th scope="col">From</th>
              </tr>
            </thead>
            <tbody>
              {entries.map((e) => (
                <Row key={e.id} entry={e} />
              ))}
            </tbody>
          </table>
        </div>
      )}
      {pages.hasNextPage ? (
        <button
          type="button"
          className="button"
          onClick={() => pages.fetchNextPage()}
          disabled={pages.isFetchingNextPage}
        >
          {pages.isFetchingNextPage ? "Loading…" : "Older"}
        </button>
      ) : null}
    </main>
  );
}
