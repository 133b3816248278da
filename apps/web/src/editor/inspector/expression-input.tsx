"use client";

import { parse } from "@sluice/pipeline/expr/parser";
import type { SourcePosition, ValidationIssue } from "@sluice/pipeline/issues";
import type { RecordSchema } from "@sluice/pipeline/record-schema";
import { type KeyboardEvent, useEffect, useId, useLayoutEffect, useMemo, useRef, useState } from "react";
import { useEditor, useRuntime } from "../editor-context";
import { issueText } from "../issue-text";
import { selectedNodeId } from "../store/editor-store";
import { OUT_PORT } from "../store/flow-model";
import {
  applyCompletion,
  type Completion,
  completionCandidates,
  completionContext,
  mergeFields,
  rankCompletions,
} from "./expression-completions";
import { type ErrorSpan, highlight } from "./expression-text";

/** Whether the browser sizes a textarea to its content itself (CSS `field-sizing: content`, see globals.css). */
const SIZED_BY_CSS = typeof CSS !== "undefined" && CSS.supports("field-sizing", "content");

// The inspector's expression field: a textarea with transparent text over a highlighted copy of the expression, an
// autocomplete list (WAI-ARIA combobox) of the node's input fields and the language's functions, and errors
// underlined where they are: syntax errors as the user types (parsed here), the checker's errors from validation.

type Path = readonly (string | number)[];

interface ExpressionInputProps {
  id: string;
  value: string;
  /** The text as typed; the form decides what an empty text means. */
  onChange: (text: string) => void;
  /** The field's path in the node's config: validation issues at this path are underlined. */
  path: Path;
  /** Offer window aggregates (sum, count, …); only aggregate expressions accept them. */
  aggregates?: boolean;
  placeholder?: string;
  describedBy?: string;
  /** The form row already shows issues for this field. */
  invalid: boolean;
}

const EMPTY_SCHEMAS: RecordSchema[] = [];

const startsWith = (a: Path | undefined, prefix: Path) =>
  a !== undefined && a.length >= prefix.length && prefix.every((x, i) => x === a[i]);

const spanOf = (p: SourcePosition): ErrorSpan => ({ start: p.offset, end: p.offset + p.length });

export function ExpressionInput({
  id,
  value,
  onChange,
  path,
  aggregates = false,
  placeholder,
  describedBy,
  invalid,
}: ExpressionInputProps) {
  const runtime = useRuntime();
  const nodeId = useEditor(selectedNodeId);
  const edges = useEditor((s) => s.edges);
  const schemas = useEditor((s) => s.validation.schemas);
  const allIssues = useEditor((s) => s.validation.issues);
  const listId = useId();
  const errorId = useId();
  const area = useRef<HTMLTextAreaElement>(null);
  const overlay = useRef<HTMLPreElement>(null);
  const list = useRef<HTMLDivElement>(null);
  const pendingCaret = useRef<number | null>(null);
  const [caret, setCaret] = useState(0);
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(0);

  // Validation runs a moment after each edit: its positions hold only for the text it checked, which is the text
  // shown when the issues arrived.
  const [checked, setChecked] = useState({ issues: allIssues, text: value });
  if (checked.issues !== allIssues) setChecked({ issues: allIssues, text: value });
  const issuesCurrent = checked.issues === allIssues && checked.text === value;

  const inputs = useMemo(() => {
    if (!nodeId) return EMPTY_SCHEMAS;
    const upstream: RecordSchema[] = [];
    for (const e of edges) {
      if (e.target !== nodeId) continue;
      const schema = schemas[e.source]?.[e.sourceHandle ?? OUT_PORT];
      if (schema) upstream.push(schema);
    }
    return upstream;
  }, [nodeId, edges, schemas]);

  const configPath = ["config", ...path];
  const mine = allIssues.filter((i) => i.nodeId === nodeId);
  const about = mine.filter((i) => startsWith(i.path, configPath));
  const located = about.filter((i) => i.position && i.path?.length === configPath.length);
  // The form row already lists the field's issues under it (see FieldRow): they are not repeated here.
  const rowTexts = new Set(about.map(issueText));

  const syntaxErrors = useMemo(() => {
    if (value.trim() === "") return [];
    const parsed = parse(value);
    return parsed.ok ? [] : parsed.errors;
  }, [value]);

  const spans: ErrorSpan[] = syntaxErrors.map((e) => spanOf(e.position));
  if (issuesCurrent) for (const i of located) if (i.position) spans.push(spanOf(i.position));
  const segments = highlight(value, spans);
  const errorAtEnd = spans.some((s) => s.start >= value.length);
  const messages = syntaxErrors
    .map((e) => {
      const issue: ValidationIssue = { severity: "error", code: e.code, message: e.message, position: e.position };
      if (e.suggestion !== undefined) issue.suggestion = e.suggestion;
      return issueText(issue);
    })
    .filter((text) => !rowTexts.has(text));

  const ctx = open ? completionContext(value, caret) : null;
  const items = ctx
    ? rankCompletions(
        completionCandidates(ctx, { fields: mergeFields(inputs), functions: runtime.functions, aggregates }),
        ctx.query,
      )
    : [];
  const expanded = ctx !== null && items.length > 0;
  const activeIndex = Math.min(active, items.length - 1);
  const optionId = (i: number) => `${listId}-${i}`;

  // Grows with its content (long expressions wrap), and keeps the overlay scrolled with it. Where CSS sizes the
  // field to its content (field-sizing), nothing is measured here: measuring forces a layout of the whole page in the
  // middle of a render, which on a canvas of a thousand nodes costs more than the rest of selecting one.
  const fitHeight = () => {
    const el = area.current;
    if (!el || SIZED_BY_CSS) return;
    el.style.height = "0px";
    el.style.height = `${el.scrollHeight + el.offsetHeight - el.clientHeight}px`;
    syncScroll();
  };
  const syncScroll = () => {
    if (!area.current || !overlay.current) return;
    overlay.current.scrollTop = area.current.scrollTop;
    overlay.current.scrollLeft = area.current.scrollLeft;
  };
  // biome-ignore lint/correctness/useExhaustiveDependencies: re-measure whenever the text changes
  useLayoutEffect(() => {
    fitHeight();
    if (pendingCaret.current !== null && area.current) {
      area.current.setSelectionRange(pendingCaret.current, pendingCaret.current);
      pendingCaret.current = null;
    }
  }, [value]);
  // biome-ignore lint/correctness/useExhaustiveDependencies: fitHeight reads only refs
  useEffect(() => {
    const el = area.current;
    if (!el || SIZED_BY_CSS || typeof ResizeObserver === "undefined") return;
    let width = el.clientWidth;
    const observer = new ResizeObserver(() => {
      if (el.clientWidth === width) return;
      width = el.clientWidth;
      fitHeight();
    });
    observer.observe(el);
    return () => observer.disconnect();
  }, []);
  useEffect(() => {
    if (expanded) list.current?.children[activeIndex]?.scrollIntoView({ block: "nearest" });
  }, [expanded, activeIndex]);

  const close = () => {
    setOpen(false);
    setActive(0);
  };

  const accept = (item: Completion) => {
    if (!ctx) return;
    const next = applyCompletion(value, ctx, item);
    pendingCaret.current = next.caret;
    setCaret(next.caret);
    close();
    onChange(next.text);
  };

  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key === " " && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      setCaret(e.currentTarget.selectionStart);
      setActive(0);
      setOpen(true);
      return;
    }
    if (!expanded) return;
    switch (e.key) {
      case "ArrowDown":
        e.preventDefault();
        setActive((activeIndex + 1) % items.length);
        break;
      case "ArrowUp":
        e.preventDefault();
        setActive((activeIndex - 1 + items.length) % items.length);
        break;
      case "PageDown":
        e.preventDefault();
        setActive(Math.min(items.length - 1, activeIndex + 8));
        break;
      case "PageUp":
        e.preventDefault();
        setActive(Math.max(0, activeIndex - 8));
        break;
      case "Enter":
      case "Tab": {
        const item = items[activeIndex];
        if (!item || e.shiftKey) return;
        e.preventDefault();
        accept(item);
        break;
      }
      case "Escape":
        // Only the list closes, not the inspector or a dialog around it.
        e.preventDefault();
        e.stopPropagation();
        close();
        break;
      case "ArrowLeft":
      case "ArrowRight":
      case "Home":
      case "End":
        close();
        break;
    }
  };

  return (
    <div className="expr-editor">
      <div className="expr-box">
        <pre ref={overlay} className="input input-code expr-overlay" aria-hidden="true">
          {segments.map((s, i) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: segments are positional and rebuilt on every change
            <span key={i} className={s.error ? `expr-tok-${s.kind} expr-squiggle` : `expr-tok-${s.kind}`}>
              {s.text}
            </span>
          ))}
          {errorAtEnd ? <span className="expr-squiggle expr-squiggle-end">{"\u00a0"}</span> : null}
          {value.endsWith("\n") ? " " : null}
        </pre>
        <textarea
          ref={area}
          id={id}
          className="input input-code expr-input"
          rows={1}
          value={value}
          placeholder={placeholder}
          autoComplete="off"
          autoCapitalize="off"
          autoCorrect="off"
          spellCheck={false}
          role="combobox"
          aria-autocomplete="list"
          aria-expanded={expanded}
          aria-controls={listId}
          aria-activedescendant={expanded ? optionId(activeIndex) : undefined}
          aria-describedby={[messages.length > 0 ? errorId : null, describedBy].filter(Boolean).join(" ") || undefined}
          aria-invalid={invalid || syntaxErrors.length > 0 ? true : undefined}
          onChange={(e) => {
            const text = e.target.value;
            const at = e.target.selectionStart;
            const kind = (e.nativeEvent as InputEvent).inputType ?? "";
            const next = completionContext(text, at);
            const naming = next !== null && (next.query !== "" || next.path.length > 0 || next.quoted || next.typeName);
            // Typing a name opens the list; deleting keeps it open while there is still a name; pasting does not.
            setOpen(naming && (kind === "insertText" || kind === "insertCompositionText" || (open && kind !== "")));
            setActive(0);
            setCaret(at);
            onChange(text);
          }}
          onSelect={(e) => {
            const el = e.currentTarget;
            if (el.selectionStart !== el.selectionEnd) close();
            setCaret(el.selectionStart);
          }}
          onScroll={syncScroll}
          onKeyDown={onKeyDown}
          onMouseDown={close}
          onBlur={close}
        />
        <div
          ref={list}
          id={listId}
          role="listbox"
          aria-label="Suggestions"
          className="expr-suggestions"
          hidden={!expanded}
        >
          {expanded
            ? items.map((item, i) => (
                // biome-ignore lint/a11y/useFocusableInteractive: the textarea keeps the focus and points at the active option (aria-activedescendant)
                // biome-ignore lint/a11y/useKeyWithClickEvents: the keyboard path is the textarea's arrow keys and Enter
                <div
                  key={`${item.kind}:${item.label}`}
                  id={optionId(i)}
                  role="option"
                  aria-selected={i === activeIndex}
                  className={`expr-option expr-option-${item.kind}`}
                  // Keeps the focus in the textarea, so the click does not blur it and close the list first.
                  onMouseDown={(e) => e.preventDefault()}
                  onClick={() => accept(item)}
                  onMouseMove={() => i !== activeIndex && setActive(i)}
                >
                  <span className="expr-option-name">{item.label}</span>
                  <span className="expr-option-detail">{item.detail}</span>
                  {item.doc ? <span className="expr-option-doc">{item.doc}</span> : null}
                </div>
              ))
            : null}
        </div>
      </div>
      {messages.length > 0 ? (
        <div id={errorId}>
          {messages.map((m) => (
            <p key={m} className="field-error">
              {m}
            </p>
          ))}
        </div>
      ) : null}
    </div>
  );
}
