"use client";

import { Dialog } from "@/components/dialog";
import { UiIcon, type UiIconName } from "../../components/ui-icons";
import { useEditor } from "../editor-context";
import { MOD, SHORTCUTS } from "../shortcuts";
import { selectedCount } from "../store/editor-store";
import type { CanvasCommands } from "./use-canvas-commands";

function ToolButton({
  icon,
  label,
  shortcut,
  onClick,
  disabled,
  pressed,
}: {
  icon: UiIconName;
  label: string;
  shortcut?: string;
  onClick: () => void;
  disabled?: boolean;
  pressed?: boolean;
}) {
  return (
    <button
      type="button"
      className={`tool-button${pressed ? " is-pressed" : ""}`}
      onClick={onClick}
      disabled={disabled}
      aria-label={label}
      aria-pressed={pressed}
      aria-keyshortcuts={shortcut}
      title={shortcut ? `${label} (${shortcut})` : label}
    >
      <UiIcon name={icon} />
    </button>
  );
}

/** The canvas's own toolbar: history, arrange, notes, clipboard, selection mode, help. */
export function CanvasToolbar({
  commands,
  editable,
  boxSelect,
  onBoxSelect,
  onHelp,
}: {
  commands: CanvasCommands;
  /** False below the editor role: the tools that change the draft are off. */
  editable: boolean;
  boxSelect: boolean;
  onBoxSelect: (on: boolean) => void;
  onHelp: () => void;
}) {
  const canUndo = useEditor((s) => s.canUndo);
  const canRedo = useEditor((s) => s.canRedo);
  const hasSelection = useEditor((s) => selectedCount(s) > 0 || s.edges.some((e) => e.selected));
  const empty = useEditor((s) => s.nodes.length === 0);
  return (
    <div className="canvas-toolbar" role="toolbar" aria-label="Canvas">
      <div className="tool-group">
        <ToolButton
          icon="undo"
          label="Undo"
          shortcut={`${MOD}+Z`}
          onClick={commands.undo}
          disabled={!editable || !canUndo}
        />
        <ToolButton
          icon="redo"
          label="Redo"
          shortcut={`${MOD}+Shift+Z`}
          onClick={commands.redo}
          disabled={!editable || !canRedo}
        />
      </div>
      <div className="tool-group">
        <ToolButton
          icon="arrange"
          label={commands.arranging ? "Arranging…" : "Auto-layout"}
          shortcut="Shift+L"
          onClick={() => void commands.arrange()}
          disabled={!editable || empty || commands.arranging}
        />
        <ToolButton icon="note" label="Add note" shortcut="Shift+N" onClick={commands.addNote} disabled={!editable} />
      </div>
      <div className="tool-group">
        <ToolButton
          icon="copy"
          label="Copy"
          shortcut={`${MOD}+C`}
          onClick={() => void commands.copy()}
          disabled={!hasSelection}
        />
        <ToolButton
          icon="paste"
          label="Paste"
          shortcut={`${MOD}+V`}
          onClick={() => void commands.paste()}
          disabled={!editable}
        />
        <ToolButton
          icon="trash"
          label="Delete selection"
          shortcut="Delete"
          onClick={commands.deleteSelection}
          disabled={!editable || !hasSelection}
        />
      </div>
      <div className="tool-group">
        <ToolButton
          icon="select"
          label="Box select"
          shortcut="B"
          onClick={() => onBoxSelect(!boxSelect)}
          pressed={boxSelect}
        />
        <ToolButton icon="keyboard" label="Keyboard shortcuts" shortcut="?" onClick={onHelp} />
      </div>
    </div>
  );
}

export function ShortcutsDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  return (
    <Dialog open={open} onClose={onClose} title="Keyboard shortcuts">
      <div className="shortcuts">
        {SHORTCUTS.map((group) => (
          <section key={group.title} className="shortcut-group" aria-label={group.title}>
            <h3 className="shortcut-title">{group.title}</h3>
            <dl className="shortcut-list">
              {group.items.map((item) => (
                <div key={item.what} className="shortcut">
                  <dt>
                    {item.keys.map((k, i) => (
                      <span key={k}>
                        {i > 0 ? <span className="shortcut-or"> or </span> : null}
                        <kbd>{k}</kbd>
                      </span>
                    ))}
                  </dt>
                  <dd>{item.what}</dd>
                </div>
              ))}
            </dl>
          </section>
        ))}
      </div>
      <div className="dialog-actions">
        <button type="button" className="button" onClick={onClose}>
          Close
        </button>
      </div>
    </Dialog>
  );
}
