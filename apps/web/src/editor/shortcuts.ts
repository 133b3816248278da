// The editor's keyboard shortcuts: one list for the handlers' documentation and the help overlay.

const IS_MAC = typeof navigator !== "undefined" && /Mac|iPhone|iPad/.test(navigator.platform);
export const MOD = IS_MAC ? "⌘" : "Ctrl";

export interface ShortcutGroup {
  title: string;
  items: { keys: string[]; what: string }[];
}

export const SHORTCUTS: readonly ShortcutGroup[] = [
  {
    title: "Edit",
    items: [
      { keys: [`${MOD}+Z`], what: "Undo" },
      { keys: [`${MOD}+Shift+Z`, `${MOD}+Y`], what: "Redo" },
      { keys: [`${MOD}+C`, `${MOD}+X`, `${MOD}+V`], what: "Copy, cut, paste nodes (also between pipelines and tabs)" },
      { keys: ["Delete", "Backspace"], what: "Delete the selection" },
      { keys: [`${MOD}+A`], what: "Select everything" },
      { keys: [`${MOD}+S`], what: "Save a version" },
    ],
  },
  {
    title: "Canvas",
    items: [
      { keys: ["Tab", "Shift+Tab"], what: "Move to the next or previous node, bringing it into view" },
      { keys: ["Enter", "Space"], what: "Select the focused node" },
      { keys: ["Arrow keys"], what: "Move the selected nodes" },
      { keys: [`${MOD}+click`], what: "Add to the selection" },
      { keys: ["Shift+drag"], what: "Select with a box" },
      { keys: ["B"], what: "Box select mode on/off (drag on the canvas selects)" },
      { keys: ["Shift+1"], what: "Zoom to fit" },
      { keys: ["Shift+L"], what: "Arrange the pipeline (auto-layout)" },
      { keys: ["Shift+N"], what: "Add a sticky note" },
    ],
  },
  {
    title: "Palette and inspector",
    items: [
      { keys: ["/"], what: "Search the palette" },
      { keys: ["↑", "↓"], what: "Move through the palette" },
      { keys: ["Enter"], what: "Add the node beside the selected one (and connect it)" },
      { keys: [`${MOD}+Space`], what: "Suggest fields and functions in an expression" },
      { keys: ["?"], what: "Show these shortcuts" },
    ],
  },
];

/** Whether a key event comes from something the user types into (where shortcuts must not fire). */
export function isTyping(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  const tag = target.tagName;
  if (tag === "TEXTAREA" || tag === "SELECT") return true;
  if (tag === "INPUT") {
    const type = (target as HTMLInputElement).type;
    return !["button", "checkbox", "radio", "submit", "reset", "range", "color", "file"].includes(type);
  }
  return false;
}
