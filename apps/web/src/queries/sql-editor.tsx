"use client";

import { autocompletion, closeBrackets, closeBracketsKeymap, completionKeymap } from "@codemirror/autocomplete";
import { defaultKeymap, history, historyKeymap } from "@codemirror/commands";
import { MySQL, PostgreSQL, type SQLDialect, StandardSQL, sql } from "@codemirror/lang-sql";
import { bracketMatching, defaultHighlightStyle, indentOnInput, syntaxHighlighting } from "@codemirror/language";
import { Compartment, EditorState, Prec } from "@codemirror/state";
import {
  drawSelection,
  EditorView,
  highlightActiveLine,
  highlightActiveLineGutter,
  keymap,
  lineNumbers,
  placeholder,
} from "@codemirror/view";
import { type Ref, useEffect, useImperativeHandle, useRef } from "react";
import { completionSchema, type SchemaTable } from "./schema-completion";

/** The SQL a source speaks, as queries.sources names it. */
export type QueryDialect = "postgresql" | "mysql" | "duckdb";

// DuckDB has no lang-sql dialect of its own; its SQL is close enough to the standard one for highlighting.
const DIALECTS: Record<QueryDialect, SQLDialect> = { postgresql: PostgreSQL, mysql: MySQL, duckdb: StandardSQL };

export interface SqlEditorHandle {
  /** Puts text at the cursor (replacing a selection) and focuses the editor. */
  insert(text: string): void;
  /** Replaces the whole text (opening a saved query); undo brings the old text back. */
  replace(text: string): void;
}

interface SqlEditorProps {
  /** The text the editor starts with; later changes come from typing (and `insert`, `replace`). */
  initialDoc: string;
  dialect: QueryDialect;
  /** The source's tables and columns, for completion; empty while unknown. */
  tables: readonly SchemaTable[];
  onChange(doc: string): void;
  /** Ctrl/Cmd+Enter. */
  onRun(): void;
  ref?: Ref<SqlEditorHandle>;
}

function language(dialect: QueryDialect, tables: readonly SchemaTable[]) {
  return sql({ dialect: DIALECTS[dialect], ...completionSchema(tables) });
}

const theme = EditorView.theme({
  "&": { height: "100%", fontSize: "13px" },
  ".cm-scroller": { fontFamily: "var(--mono)", lineHeight: "1.55" },
  ".cm-gutters": { background: "var(--surface-2)", borderRight: "1px solid var(--border)", color: "var(--faint)" },
  "&.cm-focused": { outline: "none" },
});

/**
 * The query page's SQL editor: CodeMirror 6 with the source's dialect and completion of its tables and columns.
 * CodeMirror owns the text; the page hears of changes through onChange. Its injected <style> elements need no nonce:
 * the page's CSP allows inline styles (server/security-headers.ts).
 */
export function SqlEditor({ initialDoc, dialect, tables, onChange, onRun, ref }: SqlEditorProps) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const languageSlot = useRef(new Compartment());
  // The view is built once; these let its listeners call the latest props.
  const handlers = useRef({ onChange, onRun });
  handlers.current = { onChange, onRun };
  const initial = useRef({ initialDoc, dialect, tables });

  useEffect(() => {
    if (!host.current) return;
    const { initialDoc: doc, dialect: d, tables: t } = initial.current;
    const editor = new EditorView({
      parent: host.current,
      state: EditorState.create({
        doc,
        extensions: [
          lineNumbers(),
          highlightActiveLineGutter(),
          history(),
          drawSelection(),
          indentOnInput(),
          syntaxHighlighting(defaultHighlightStyle, { fallback: true }),
          bracketMatching(),
          closeBrackets(),
          autocompletion(),
          highlightActiveLine(),
          placeholder("select * from …"),
          EditorView.lineWrapping,
          Prec.highest(
            keymap.of([
              {
                key: "Mod-Enter",
                run: () => {
                  handlers.current.onRun();
                  return true;
                },
              },
            ]),
          ),
          keymap.of([...closeBracketsKeymap, ...defaultKeymap, ...historyKeymap, ...completionKeymap]),
          languageSlot.current.of(language(d, t)),
          EditorView.contentAttributes.of({ "aria-label": "SQL" }),
          EditorView.updateListener.of((update) => {
            if (update.docChanged) handlers.current.onChange(update.state.doc.toString());
          }),
          theme,
        ],
      }),
    });
    view.current = editor;
    return () => {
      editor.destroy();
      view.current = null;
    };
  }, []);

  useEffect(() => {
    view.current?.dispatch({ effects: languageSlot.current.reconfigure(language(dialect, tables)) });
  }, [dialect, tables]);

  useImperativeHandle(
    ref,
    () => ({
      insert(text) {
        const editor = view.current;
        if (!editor) return;
        editor.dispatch(editor.state.replaceSelection(text), { scrollIntoView: true });
        editor.focus();
      },
      replace(text) {
        const editor = view.current;
        if (!editor || editor.state.doc.toString() === text) return;
        editor.dispatch({ changes: { from: 0, to: editor.state.doc.length, insert: text }, selection: { anchor: 0 } });
      },
    }),
    [],
  );

  return <div ref={host} className="sql-editor" data-testid="sql-editor" />;
}
