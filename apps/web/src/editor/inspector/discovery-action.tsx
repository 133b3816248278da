"use client";

import type { AnyNodeDefinition } from "@sluice/pipeline/node-definition";
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { type BrowsedConnection, DiscoveryBrowser, type DiscoveryObject } from "@/components/discovery-browser";
import { configForm } from "@/forms/schema";
import { useWorkspaceRole } from "@/lib/use-workspace-role";
import { useTRPC } from "@/trpc/react";
import { useEditorStore, useRuntime } from "../editor-context";
import { applyDiscovery, canApplyDiscovery, discoveryHints } from "./discovery-config";

/**
 * "Browse <connection>…" for a node whose declaration marks fields discovery can fill (see discovery-config), once
 * its config names a connection of a type that can discover. Using an object rewrites the config in one undoable
 * step, so validation recomputes the node's output schema and downstream nodes see the discovered fields.
 */
export function DiscoveryAction({
  nodeId,
  def,
  config,
}: {
  nodeId: string;
  def: AnyNodeDefinition;
  config: Readonly<Record<string, unknown>>;
}) {
  const runtime = useRuntime();
  const store = useEditorStore();
  const trpc = useTRPC();
  const [browsing, setBrowsing] = useState<BrowsedConnection | null>(null);
  // Browsing queries the live system with the connection's credentials, and using an object edits the node.
  const { why } = useWorkspaceRole();
  const refusal = why("useConnections") ?? why("editPipelines");
  const hints = discoveryHints(configForm(runtime.configJsonSchema(def)));
  const usable = hints.connection !== undefined && canApplyDiscovery(hints);
  // The same queries (and cache) as the editor's connection list and the connections page.
  const connections = useQuery(trpc.connections.list.queryOptions(undefined, { staleTime: 30_000, enabled: usable }));
  const types = useQuery(
    trpc.connections.types.queryOptions(undefined, { staleTime: Number.POSITIVE_INFINITY, enabled: usable }),
  );
  if (!usable || !hints.connection) return null;
  const name = config[hints.connection.field];
  if (typeof name !== "string" || name === "") return null;
  const connection = connections.data?.find((c) => c.name === name);
  const discoverable = connection && types.data?.find((t) => t.type === connection.type)?.canDiscover === true;
  if (!connection || !discoverable) return null;

  const use = (object: DiscoveryObject) => {
    const current = store.getState().nodes.find((n) => n.id === nodeId)?.data.config;
    if (!current) return;
    store.getState().replaceConfig(nodeId, applyDiscovery(current, hints, object));
  };

  return (
    <div className="discovery-action">
      <button
        type="button"
        className="button button-small"
        disabled={refusal !== undefined}
        title={refusal}
        onClick={() => setBrowsing({ id: connection.id, name: connection.name })}
      >
        Browse {connection.name}…
      </button>
      <DiscoveryBrowser connection={browsing} onClose={() => setBrowsing(null)} onUse={use} />
    </div>
  );
}
