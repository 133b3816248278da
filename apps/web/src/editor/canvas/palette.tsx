"use client";

import type { AnyNodeDefinition, NodeKind } from "@sluice/pipeline/node-definition";
import { type DragEvent, type KeyboardEvent, useId, useMemo, useRef, useState } from "react";
import { useWorkspaceRole } from "@/lib/use-workspace-role";
import { useCatalog } from "../editor-context";
import { NodeIcon } from "./node-icon";
import { NODE_DRAG_TYPE, usePlaceNode } from "./use-place-node";

// Every node type, grouped by kind, with search. Keyboard: "/" focuses the search, ↓ moves into the list, ↑/↓/Home/
// End move through it (one tab stop for the whole list), Enter adds the node beside the selected one and connects
// it; focus stays where it was so several nodes can be added in a row.

const GROUPS: { kind: NodeKind; title: string }[] = [
  { kind: "source", title: "Sources" },
  { kind: "transform", title: "Transforms" },
  { kind: "sink", title: "Sinks" },
];

function matches(def: AnyNodeDefinition, query: string): boolean {
  if (!query) return true;
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  const text = [def.title, def.type, def.category, def.summary].join(" ").toLowerCase();
  return words.every((w) => text.includes(w));
}

export function Palette() {
  const catalog = useCatalog();
  const placeNode = usePlaceNode();
  // Viewers browse the node types (their docs are in the titles) but add none.
  const { canEdit, why } = useWorkspaceRole();
  const refusal = why("editPipelines");
  const [query, setQuery] = useState("");
  const [active, setActive] = useState<string | null>(null);
  const [announcement, setAnnouncement] = useState("");
  const searchId = useId();
  const list = useRef<HTMLDivElement>(null);
  const groups = useMemo(
    () =>
      GROUPS.map((g) => ({
        ...g,
        defs: catalog
          .list()
          .filter((d) => d.kind === g.kind && matches(d, query.trim()))
          .sort((a, b) => a.title.localeCompare(b.title)),
      })).filter((g) => g.defs.length > 0),
    [catalog, query],
  );
  const flat = useMemo(() => groups.flatMap((g) => g.defs), [groups]);
  // The one item in the tab order: the last one moved to, or the first.
  const current = flat.some((d) => d.type === active) ? active : (flat[0]?.type ?? null);

  const add = (def: AnyNodeDefinition) => {
    if (!canEdit) return;
    const placed = placeNode(def.type);
    if (!placed) return;
    setAnnouncement(
      placed.connected && placed.besideOf
        ? `Added ${def.title} as ${placed.id}, connected from ${placed.besideOf}.`
        : `Added ${def.title} as ${placed.id}.`,
    );
  };

  const focusItem = (type: string | undefined) => {
    if (!type) return;
    setActive(type);
    list.current?.querySelector<HTMLButtonElement>(`[data-node-type="${CSS.escape(type)}"]`)?.focus();
  };

  const onListKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    const index = flat.findIndex((d) => d.type === current);
    const move: Record<string, number | undefined> = {
      ArrowDown: Math.min(flat.length - 1, index + 1),
      ArrowUp: index - 1,
      Home: 0,
      End: flat.length - 1,
    };
    const to = move[event.key];
    if (to === undefined) return;
    event.preventDefault();
    if (to < 0) document.getElementById(searchId)?.focus();
    else focusItem(flat[to]?.type);
  };

  const onSearchKeyDown = (event: KeyboardEvent<HTMLInputElement>) => {
    if (event.key === "ArrowDown") {
      event.preventDefault();
      focusItem(flat[0]?.type);
    } else if (event.key === "Enter") {
      event.preventDefault();
      const first = flat[0];
      if (first) add(first);
    } else if (event.key === "Escape" && query) {
      event.preventDefault();
      setQuery("");
    }
  };

  const onDragStart = (event: DragEvent<HTMLButtonElement>, type: string) => {
    event.dataTransfer.setData(NODE_DRAG_TYPE, type);
    event.dataTransfer.effectAllowed = "copy";
  };

  return (
    <aside className="editor-palette" aria-label="Node palette">
      <div className="pane-header">
        <h2 className="pane-title">Nodes</h2>
      </div>
      <div className="palette-search">
        <label htmlFor={searchId} className="visually-hidden">
          Search nodes
        </label>
        <input
          id={searchId}
          type="search"
          className="input input-small"
          placeholder="Search nodes…  ( / )"
          value={query}
          onChange={(e) => setQuery(e.target.value)}
          onKeyDown={onSearchKeyDown}
          autoComplete="off"
          data-palette-search
          aria-describedby={`${searchId}-hint`}
        />
      </div>
      {/* biome-ignore lint/a11y/noStaticElementInteractions: arrow keys move between the buttons inside */}
      <div className="palette-groups" ref={list} onKeyDown={onListKeyDown}>
        {groups.map((g) => (
          <section key={g.kind} className="palette-group" aria-labelledby={`${searchId}-${g.kind}`}>
            <h3 id={`${searchId}-${g.kind}`} className="palette-group-title">
              {g.title}
            </h3>
            <ul className="palette-list">
              {g.defs.map((def) => (
                <li key={def.type}>
                  <button
                    type="button"
                    className={`palette-item kind-${def.kind}`}
                    draggable={canEdit}
                    disabled={!canEdit}
                    data-node-type={def.type}
                    tabIndex={def.type === current ? 0 : -1}
                    onDragStart={(e) => onDragStart(e, def.type)}
                    onFocus={() => setActive(def.type)}
                    onClick={() => add(def)}
                    aria-label={def.title}
                    aria-describedby={`${searchId}-${def.type}`}
                    title={refusal ?? `${def.summary}\nClick or press Enter to add, or drag onto the canvas.`}
                  >
                    <span className="palette-icon">
                      <NodeIcon name={def.icon} kind={def.kind} size={16} />
                    </span>
                    <span className="palette-text">
                      <span className="palette-title">{def.title}</span>
                      <span className="palette-summary" id={`${searchId}-${def.type}`}>
                        {def.summary}
                      </span>
                    </span>
                  </button>
                </li>
              ))}
            </ul>
          </section>
        ))}
        {groups.length === 0 ? <p className="muted palette-none">No node matches “{query}”.</p> : null}
      </div>
      <p className="palette-hint" id={`${searchId}-hint`}>
        {refusal ?? "Drag onto the canvas, or press Enter to add beside the selected node. ↑↓ move through the list."}
      </p>
      <p className="visually-hidden" role="status" aria-live="polite">
        {announcement}
      </p>
    </aside>
  );
}
