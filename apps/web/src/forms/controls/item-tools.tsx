"use client";

import { useEffect, useRef } from "react";
import { UiIcon } from "../../components/ui-icons";
import { FOCUSABLE } from "../field-row";
import type { Control } from "../schema";
import { itemNoun } from "../values";

// What lists and maps share: stable item keys, focus that follows the user's hand, and the move/remove buttons.

const TEXT_ENTRY = "input[type=text]:not([disabled]), textarea:not([disabled])";

/** Stable React keys for the items of a list, moved along with them. */
export function useItemKeys(length: number) {
  const ref = useRef<{ keys: number[]; next: number }>({ keys: [], next: 0 });
  const s = ref.current;
  while (s.keys.length < length) s.keys.push(s.next++);
  if (s.keys.length > length) s.keys.length = length;
  return s;
}

type FocusRequest = { item: number; target: "first" | "up" | "down" | "remove" } | { item: null; target: "add" };

/** After an add, move or remove, puts focus where the user's hand is: the new item, the moved button, the next item. */
export function usePendingFocus() {
  const list = useRef<HTMLOListElement>(null);
  const add = useRef<HTMLButtonElement>(null);
  const pending = useRef<FocusRequest | null>(null);
  useEffect(() => {
    const request = pending.current;
    if (!request) return;
    pending.current = null;
    if (request.item === null) {
      add.current?.focus();
      return;
    }
    const item = list.current?.querySelector<HTMLElement>(`[data-item="${request.item}"]`);
    if (!item) return add.current?.focus();
    const target =
      request.target === "first"
        ? // Where the user types: past a union's member radios, to the value itself.
          (item.querySelector<HTMLElement>(TEXT_ENTRY) ?? item.querySelector<HTMLElement>(FOCUSABLE))
        : (item.querySelector<HTMLElement>(`[data-action="${request.target}"]:not(:disabled)`) ??
          item.querySelector<HTMLElement>("[data-action]:not(:disabled)"));
    target?.focus();
  });
  return { list, add, request: (r: FocusRequest) => (pending.current = r) };
}

export function ItemButtons({
  which,
  index,
  count,
  canRemove,
  onMove,
  onRemove,
}: {
  which: string;
  index: number;
  count: number;
  canRemove: boolean;
  onMove: (by: -1 | 1) => void;
  onRemove: () => void;
}) {
  return (
    <div className="cfg-item-tools">
      <button
        type="button"
        className="icon-button"
        data-action="up"
        aria-label={`Move ${which} up`}
        title="Move up"
        disabled={index === 0}
        onClick={() => onMove(-1)}
      >
        <UiIcon name="up" />
      </button>
      <button
        type="button"
        className="icon-button"
        data-action="down"
        aria-label={`Move ${which} down`}
        title="Move down"
        disabled={index >= count - 1}
        onClick={() => onMove(1)}
      >
        <UiIcon name="down" />
      </button>
      <button
        type="button"
        className="icon-button"
        data-action="remove"
        aria-label={`Remove ${which}`}
        title="Remove"
        disabled={!canRemove}
        onClick={onRemove}
      >
        <UiIcon name="close" />
      </button>
    </div>
  );
}

export const nounOf = (label: string, item?: Control) =>
  item && item.label !== `${label} item` && item.label !== "Value" ? item.label.toLowerCase() : itemNoun(label);
