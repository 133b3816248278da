"use client";

import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useEditor } from "@/editor/editor-context";
import { useTRPC } from "@/trpc/react";
import { queryLinkFor } from "./query-link";

/** "Query this table" / "Query these files" on a sink whose output the query page can read (query-link.ts). */
export function QueryAction({ type, config }: { type: string; config: Readonly<Record<string, unknown>> }) {
  const trpc = useTRPC();
  const parameters = useEditor((s) => s.frame.spec.parameters);
  const wanted = type === "sink.postgres" || type === "sink.mariadb" || type === "sink.file";
  // The same query (and cache) as the editor's connection list and the connections page.
  const connections = useQuery(trpc.connections.list.queryOptions(undefined, { staleTime: 30_000, enabled: wanted }));
  if (!wanted) return null;
  const link = queryLinkFor(type, config, parameters, connections.data ?? []);
  if (!link) return null;
  return (
    <p className="query-action">
      <Link href={link.href} className="button button-small">
        {link.label}
      </Link>
    </p>
  );
}
