"use client";

import { createContext, type ReactNode, useContext, useEffect, useRef, useState } from "react";
import { commitRows, type RecordRow, rowProblems, rowsFromRecord } from "./config-record";
import { type Control, type FieldSpec, initialValue, memberOf, type UnionMember } from "./config-schema";
import {
  type ConfigPath,
  capitalize,
  fits,
  formatJson,
  isContainer,
  itemNoun,
  itemSummary,
  moveItem,
  oneKeyChoice,
  parseJsonText,
  pathKey,
  sameJson,
  switchMember,
  switchOneKey,
} from "./config-values";
import { DraftInput } from "./draft-input";
import { UiIcon } from "./ui-icons";

// The rows of a generated config form at any depth (see config-schema.ts for the control tree): a labelled row per
// scalar field, and groups for nested objects, unions, one-key choices, lists and maps, each built from the same
// rows again. Scalar controls come from the form (config-form.tsx) through ConfigScope, so every scalar kind
// renders the same way wherever it sits. Element ids derive from the config path, so an issue at `fields[2].expr`
// finds its input.

export interface ScalarControlProps {
  spec: FieldSpec;
  /** The field's full path in the node's config. */
  path: ConfigPath;
  id: string;
  value: unknown;
  describedBy: string | undefined;
  invalid: boolean;
  onChange: (value: unknown) => void;
}

export interface ConfigScope {
  /** The id of the control that shows `path`. */
  idFor(path: ConfigPath): string;
  /** Issue sentences that belong to the control at `path`. */
  issuesAt(path: ConfigPath): readonly string[];
  renderScalar(props: ScalarControlProps): ReactNode;
}

export const ConfigScopeContext = createContext<ConfigScope | null>(null);

function useScope(): ConfigScope {
  const scope = useContext(ConfigScopeContext);
  if (!scope) throw new Error("config rows need a ConfigScopeContext provider");
  return scope;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const isLeaf = (c: Control) => !isContainer(c) && c.kind !== "json";
const TEXT_ENTRY = "input[type=text]:not([disabled]), textarea:not([disabled])";
const FOCUSABLE =
  "input:not([disabled]):not([type=hidden]), select:not([disabled]), textarea:not([disabled]), button:not([disabled])";

/**
 * Focuses the control that shows `path` (or, when that one is not on screen, the nearest enclosing one): the
 * element with the path's id, else the first control inside the group marked with the path.
 */
export function focusConfigPath(root: HTMLElement, scope: Pick<ConfigScope, "idFor">, path: ConfigPath): boolean {
  for (let n = path.length; n > 0; n--) {
    const part = path.slice(0, n);
    const byId = root.ownerDocument.getElementById(scope.idFor(part));
    const group =
      byId && root.contains(byId) ? byId : root.querySelector(`[data-config-path="${CSS.escape(pathKey(part))}"]`);
    if (!(group instanceof HTMLElement)) continue;
    // A group's own "JSON" toggle is not what an issue is about: its first control is.
    const target = group.matches(FOCUSABLE)
      ? group
      : [...group.querySelectorAll<HTMLElement>(FOCUSABLE)].find((el) => !el.classList.contains("cfg-json-toggle"));
    if (!target) continue;
    const details = target.closest("details");
    if (details && !details.open) details.open = true;
    target.focus();
    target.scrollIntoView?.({ block: "nearest" });
    return true;
  }
  return false;
}

function IssueList({ id, issues }: { id: string | null; issues: readonly string[] }) {
  if (!id) return null;
  return (
    <div id={id}>
      {issues.map((m) => (
        <p key={m} className="field-error">
          {m}
        </p>
      ))}
    </div>
  );
}

function JsonEditor({
  id,
  value,
  required,
  placeholder,
  describedBy,
  invalid,
  onChange,
}: {
  id: string;
  value: unknown;
  required: boolean;
  placeholder?: string | undefined;
  describedBy: string | undefined;
  invalid: boolean;
  onChange: (value: unknown) => void;
}) {
  return (
    <DraftInput
      id={id}
      value={value}
      format={formatJson}
      parse={(text) => parseJsonText(text, required)}
      onCommit={onChange}
      multiline
      rows={Math.min(14, Math.max(4, formatJson(value).split("\n").length + 1))}
      className="input input-code"
      placeholder={placeholder}
      describedBy={describedBy}
      invalid={invalid}
    />
  );
}

export interface FieldRowProps {
  spec: FieldSpec;
  path: ConfigPath;
  value: unknown;
  onChange: (value: unknown) => void;
  /** The name to show and announce, when not the control's own label (list items, map values, union members). */
  label?: string;
  /** Announce the name without showing it: a list item's heading or a selector shows it already. */
  hideLabel?: boolean;
  /** Fields of a tagged union member that its selector sets: not shown. */
  hidden?: ReadonlySet<string>;
  /** Top-level rows carry their field name, for the inspector. */
  dataField?: string;
}

/** One field with its label, control, issues and help; groups for nested kinds. */
export function FieldRow(props: FieldRowProps) {
  const { spec, path, value, onChange, hideLabel, dataField } = props;
  const scope = useScope();
  const c = spec.control;
  const label = props.label ?? c.label;
  const id = scope.idFor(path);
  if (isContainer(c)) return <GroupRow {...props} label={label} />;
  const issues = scope.issuesAt(path);
  const helpId = c.help && !hideLabel ? `${id}-help` : null;
  const issuesId = issues.length > 0 ? `${id}-issues` : null;
  const describedBy = [issuesId, helpId].filter(Boolean).join(" ") || undefined;
  const invalid = issues.length > 0;
  const control =
    c.kind === "json" ? (
      <JsonEditor
        id={id}
        value={value}
        required={spec.required}
        placeholder={c.defaultValue !== undefined ? formatJson(c.defaultValue) : c.placeholder}
        describedBy={describedBy}
        invalid={invalid}
        onChange={onChange}
      />
    ) : (
      scope.renderScalar({ spec, path, id, value, describedBy, invalid, onChange })
    );
  const isCheckbox = c.kind === "boolean";
  const labelClass = hideLabel ? "visually-hidden" : "field-label";
  return (
    <div
      className={isCheckbox ? "field field-check" : hideLabel ? "field cfg-bare" : "field"}
      data-config-field={dataField}
    >
      {isCheckbox ? (
        <div className="field-check-row">
          {control}
          <label htmlFor={id} className={labelClass}>
            {label}
          </label>
        </div>
      ) : (
        <>
          {hideLabel ? (
            <label htmlFor={id} className={labelClass}>
              {label}
            </label>
          ) : (
            <div className="field-label-row">
              <label htmlFor={id} className={labelClass}>
                {label}
              </label>
              {spec.required ? null : <span className="field-optional">optional</span>}
            </div>
          )}
          {control}
        </>
      )}
      <IssueList id={issuesId} issues={issues} />
      {helpId ? (
        <p id={helpId} className="field-hint">
          {c.help}
        </p>
      ) : null}
    </div>
  );
}

/** A nested object, union, one-key choice, list or map: a group with its own rows, or its JSON. */
function GroupRow(props: FieldRowProps & { label: string }) {
  const { spec, path, value, onChange, label, hideLabel, hidden, dataField } = props;
  const scope = useScope();
  const [asJson, setAsJson] = useState(false);
  const c = spec.control;
  const id = scope.idFor(path);
  const shaped = fits(c, value);
  const json = asJson || !shaped;
  // A union hands its issues to the member it shows, which sits at the same path.
  const delegates = !json && c.kind === "union" && memberOf(c.members, value) >= 0;
  const issues = delegates ? [] : scope.issuesAt(path);
  const issuesId = issues.length > 0 ? `${id}-issues` : null;
  const helpId = c.help && !hideLabel ? `${id}-help` : null;
  const describedBy = [issuesId, helpId].filter(Boolean).join(" ") || undefined;
  const body = json ? (
    <>
      {hideLabel ? (
        <label htmlFor={id} className="visually-hidden">
          {`${label} (JSON)`}
        </label>
      ) : null}
      <JsonEditor
        id={id}
        value={value}
        required={spec.required}
        describedBy={describedBy}
        invalid={issues.length > 0}
        onChange={onChange}
      />
      {shaped ? null : <p className="field-hint">This value does not fit the form: edit it as JSON.</p>}
    </>
  ) : (
    <ControlBody
      control={c}
      path={path}
      value={value}
      onChange={onChange}
      label={label}
      required={spec.required}
      hidden={hidden}
    />
  );
  if (hideLabel) {
    return (
      <div className="cfg-bare-group" data-config-path={pathKey(path)}>
        {body}
        <IssueList id={issuesId} issues={issues} />
      </div>
    );
  }
  return (
    <fieldset
      className="cfg-group"
      data-config-field={dataField}
      data-config-path={pathKey(path)}
      aria-describedby={describedBy}
    >
      <legend className="field-label cfg-legend">{label}</legend>
      <div className="cfg-group-tools">
        {spec.required ? null : <span className="field-optional">optional</span>}
        <button
          type="button"
          className="cfg-json-toggle"
          aria-pressed={json}
          aria-label={`Edit ${label} as JSON`}
          title={shaped ? "Edit as JSON" : "This value only fits the JSON editor"}
          disabled={!shaped}
          onClick={() => setAsJson(!asJson)}
        >
          JSON
        </button>
      </div>
      <div className="cfg-group-body">
        {helpId ? (
          <p id={helpId} className="field-hint">
            {c.help}
          </p>
        ) : null}
        <IssueList id={issuesId} issues={issues} />
        {body}
      </div>
    </fieldset>
  );
}

interface BodyProps {
  control: Control;
  path: ConfigPath;
  value: unknown;
  onChange: (value: unknown) => void;
  label: string;
  required: boolean;
  hidden?: ReadonlySet<string> | undefined;
}

function ControlBody(props: BodyProps) {
  const c = props.control;
  switch (c.kind) {
    case "object":
      return <ObjectFields fields={c.fields} {...props} />;
    case "one-key":
      return <OneKeyControl options={c.options} {...props} />;
    case "union":
      return <UnionControl members={c.members} {...props} />;
    case "array":
      return <ArrayControl item={c.item} minItems={c.minItems} maxItems={c.maxItems} {...props} />;
    case "record":
      return <RecordControl valueControl={c.value} {...props} />;
    default:
      return null;
  }
}

function withKey(object: Record<string, unknown>, key: string, value: unknown): Record<string, unknown> {
  const next = { ...object };
  if (value === undefined) delete next[key];
  else next[key] = value;
  return next;
}

function ObjectFields({ fields, path, value, onChange, hidden }: BodyProps & { fields: FieldSpec[] }) {
  const object = isRecord(value) ? value : {};
  return (
    <div className="cfg-fields">
      {fields
        .filter((f) => !hidden?.has(f.name))
        .map((f) => (
          <FieldRow
            key={f.name}
            spec={f}
            path={[...path, f.name]}
            value={object[f.name]}
            onChange={(v) => onChange(withKey(object, f.name, v))}
          />
        ))}
    </div>
  );
}

/** `{ tumble: 1m }` or `{ hop: { … } }`: a select for the key, then the chosen key's control. */
function OneKeyControl({ options, path, value, onChange, label, required }: BodyProps & { options: FieldSpec[] }) {
  const scope = useScope();
  const choice = oneKeyChoice(options, value);
  const option = options.find((o) => o.name === choice);
  const inline = option !== undefined && isLeaf(option.control);
  const select = (
    <select
      id={`${scope.idFor(path)}~type`}
      className="input"
      aria-label={`${label} type`}
      value={choice ?? ""}
      onChange={(e) => onChange(switchOneKey(options, value, e.target.value === "" ? undefined : e.target.value))}
    >
      {choice === undefined || !required ? <option value="">{required ? "Choose…" : "None"}</option> : null}
      {options.map((o) => (
        <option key={o.name} value={o.name}>
          {o.control.label}
        </option>
      ))}
    </select>
  );
  const chosen = option ? (
    <FieldRow
      spec={{ ...option, required: true }}
      path={[...path, option.name]}
      value={isRecord(value) ? value[option.name] : undefined}
      onChange={(v) => onChange({ [option.name]: v })}
      label={option.control.label}
      hideLabel
    />
  ) : null;
  return inline ? (
    <div className="cfg-choice-row">
      {select}
      {chosen}
    </div>
  ) : (
    <div className="cfg-choice">
      {select}
      {chosen}
    </div>
  );
}

const memberKey = (m: UnionMember) => `${m.accepts}:${m.tag ? String(m.tag.value) : m.label}`;

/** A value of one of several shapes: radio buttons (or a select, for many or tagged members), then the member. */
function UnionControl({ members, path, value, onChange, label, required }: BodyProps & { members: UnionMember[] }) {
  const scope = useScope();
  // An unset required union shows its first member, ready to type into.
  const found = memberOf(members, value);
  const index = found < 0 && value === undefined && required ? 0 : found;
  const member = members[index];
  const tagName = members.find((m) => m.tag)?.tag?.name;
  const selectorName = tagName ? `${label} ${tagName}` : `${label} type`;
  const selectorId = `${scope.idFor(path)}~type`;
  const pick = (i: number) => onChange(i < 0 ? undefined : switchMember(members, value, i));
  const none = !required || index < 0;
  const selector =
    tagName === undefined && members.length <= 3 ? (
      <div role="radiogroup" aria-label={selectorName} className="cfg-segments">
        {!required ? (
          <label className="cfg-segment">
            <input type="radio" name={selectorId} checked={index < 0} onChange={() => pick(-1)} />
            None
          </label>
        ) : null}
        {members.map((m, i) => (
          <label key={memberKey(m)} className="cfg-segment">
            <input type="radio" name={selectorId} checked={i === index} onChange={() => pick(i)} />
            {m.label}
          </label>
        ))}
      </div>
    ) : (
      <select
        id={selectorId}
        className="input"
        aria-label={selectorName}
        value={index < 0 ? "" : String(index)}
        onChange={(e) => pick(e.target.value === "" ? -1 : Number(e.target.value))}
      >
        {none ? <option value="">{required ? "Choose…" : "None"}</option> : null}
        {members.map((m, i) => (
          <option key={memberKey(m)} value={String(i)}>
            {m.label}
          </option>
        ))}
      </select>
    );
  return (
    <div className="cfg-union">
      {selector}
      {member ? (
        <FieldRow
          spec={{ name: "", required: true, control: member.control }}
          path={path}
          value={value}
          onChange={(v) => onChange(member.tag && isRecord(v) ? { ...v, [member.tag.name]: member.tag.value } : v)}
          label={label}
          hideLabel
          hidden={member.tag ? new Set([member.tag.name]) : undefined}
        />
      ) : null}
    </div>
  );
}

/** Stable React keys for the items of a list, moved along with them. */
function useItemKeys(length: number) {
  const ref = useRef<{ keys: number[]; next: number }>({ keys: [], next: 0 });
  const s = ref.current;
  while (s.keys.length < length) s.keys.push(s.next++);
  if (s.keys.length > length) s.keys.length = length;
  return s;
}

type FocusRequest = { item: number; target: "first" | "up" | "down" | "remove" } | { item: null; target: "add" };

/** After an add, move or remove, puts focus where the user's hand is: the new item, the moved button, the next item. */
function usePendingFocus() {
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

function ItemButtons({
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

const nounOf = (label: string, item?: Control) =>
  item && item.label !== `${label} item` && item.label !== "Value" ? item.label.toLowerCase() : itemNoun(label);

function ArrayItem({
  name,
  which,
  control,
  path,
  value,
  onChange,
  buttons,
}: {
  name: string;
  which: string;
  control: Control;
  path: ConfigPath;
  value: unknown;
  onChange: (value: unknown) => void;
  buttons: Omit<Parameters<typeof ItemButtons>[0], "which">;
}) {
  const row = (
    <FieldRow
      spec={{ name: String(path.at(-1)), required: true, control }}
      path={path}
      value={value}
      onChange={onChange}
      label={capitalize(name)}
      hideLabel
    />
  );
  // A scalar item sits on one line with its buttons; a group gets a heading line with them.
  if (isLeaf(control)) {
    return (
      <>
        {row}
        <ItemButtons which={which} {...buttons} />
      </>
    );
  }
  return (
    <>
      <div className="cfg-item-head">
        <span className="cfg-item-title">{capitalize(name)}</span>
        <ItemButtons which={which} {...buttons} />
      </div>
      {row}
    </>
  );
}

/** A list of items, each with its control; add, remove and reorder within minItems/maxItems. */
function ArrayControl({
  item,
  minItems,
  maxItems,
  path,
  value,
  onChange,
  label,
  required,
}: BodyProps & { item: Control; minItems?: number | undefined; maxItems?: number | undefined }) {
  const items = Array.isArray(value) ? value : [];
  const keys = useItemKeys(items.length);
  const focus = usePendingFocus();
  const noun = nounOf(label, item);
  const min = minItems ?? 0;
  const full = maxItems !== undefined && items.length >= maxItems;
  // Emptying an optional list unsets it, whatever its minimum.
  const canRemove = items.length > min || (!required && items.length === 1);
  const commit = (next: unknown[]) => onChange(next.length === 0 && !required ? undefined : next);
  const add = () => {
    const key = keys.next++;
    keys.keys.push(key);
    focus.request({ item: key, target: "first" });
    commit([...items, initialValue(item)]);
  };
  const remove = (i: number) => {
    keys.keys.splice(i, 1);
    const neighbour = keys.keys[i] ?? keys.keys[i - 1];
    focus.request(neighbour === undefined ? { item: null, target: "add" } : { item: neighbour, target: "remove" });
    commit(items.filter((_, j) => j !== i));
  };
  const move = (i: number, by: -1 | 1) => {
    keys.keys = moveItem(keys.keys, i, i + by);
    const key = keys.keys[i + by];
    if (key !== undefined) focus.request({ item: key, target: by < 0 ? "up" : "down" });
    commit(moveItem(items, i, i + by));
  };
  const leaf = isLeaf(item);
  return (
    <div className="cfg-list">
      {items.length > 0 ? (
        <ol className="cfg-items" ref={focus.list}>
          {items.map((v, i) => {
            const name = `${noun} ${i + 1}`;
            const summary = itemSummary(v);
            const key = keys.keys[i] ?? -i - 1;
            return (
              <li key={key} data-item={key} className={leaf ? "cfg-item cfg-item-inline" : "cfg-item"}>
                <ArrayItem
                  name={name}
                  which={summary ? `${name} (${summary})` : name}
                  control={item}
                  path={[...path, i]}
                  value={v}
                  onChange={(next) => commit(items.map((x, j) => (j === i ? next : x)))}
                  buttons={{
                    index: i,
                    count: items.length,
                    canRemove,
                    onMove: (by) => move(i, by),
                    onRemove: () => remove(i),
                  }}
                />
              </li>
            );
          })}
        </ol>
      ) : (
        <p className="cfg-empty">None yet.</p>
      )}
      <button type="button" className="button button-small cfg-add" ref={focus.add} disabled={full} onClick={add}>
        <UiIcon name="plus" size={14} />
        Add {noun}
      </button>
      {full ? <p className="field-hint">At most {maxItems}.</p> : null}
    </div>
  );
}

/** A map of name → value: a name input and the value's control per row; names are checked before they count. */
function RecordControl({
  valueControl,
  path,
  value,
  onChange,
  label,
  required,
}: BodyProps & { valueControl: Control }) {
  const scope = useScope();
  const noun = nounOf(label);
  const ids = useRef(0);
  const nextId = () => ++ids.current;
  const [state, setState] = useState(() => ({ rows: rowsFromRecord(value, nextId), seen: value }));
  const focus = usePendingFocus();
  let rows = state.rows;
  if (!sameJson(state.seen, value)) {
    // Changed elsewhere (undo, the JSON editor): start again from the stored object.
    rows = rowsFromRecord(value, nextId, state.rows);
    setState({ rows, seen: value });
  }
  const problems = rowProblems(rows, noun);
  const update = (next: RecordRow[]) => {
    const result = commitRows(next, rowProblems(next, noun));
    const stored = Object.keys(result.value).length === 0 && !required ? undefined : result.value;
    setState({ rows: result.rows, seen: stored });
    if (!sameJson(stored, value)) onChange(stored);
  };
  const patch = (id: number, change: Partial<RecordRow>) =>
    update(rows.map((r) => (r.id === id ? { ...r, ...change } : r)));
  const add = () => {
    const id = nextId();
    focus.request({ item: id, target: "first" });
    update([...rows, { id, key: "", value: initialValue(valueControl), accepted: null }]);
  };
  const remove = (i: number) => {
    const neighbour = rows[i + 1] ?? rows[i - 1];
    focus.request(neighbour === undefined ? { item: null, target: "add" } : { item: neighbour.id, target: "remove" });
    update(rows.filter((_, j) => j !== i));
  };
  const move = (i: number, by: -1 | 1) => {
    const row = rows[i];
    if (row) focus.request({ item: row.id, target: by < 0 ? "up" : "down" });
    update(moveItem(rows, i, i + by));
  };
  const leaf = isLeaf(valueControl);
  const base = scope.idFor(path);
  return (
    <div className="cfg-list">
      {rows.length > 0 ? (
        <ol className="cfg-items" ref={focus.list}>
          {rows.map((row, i) => {
            const name = `${noun} ${i + 1}`;
            const which = row.key.trim() ? `${name} (${row.key})` : name;
            const problem = problems[i] ?? null;
            const problemId = problem ? `${base}~name-${row.id}-error` : undefined;
            return (
              <li key={row.id} data-item={row.id} className="cfg-item">
                <div className="cfg-item-head">
                  <input
                    id={`${base}~name-${row.id}`}
                    type="text"
                    className="input cfg-key"
                    aria-label={`${capitalize(name)} name`}
                    placeholder="name"
                    value={row.key}
                    autoComplete="off"
                    spellCheck={false}
                    aria-invalid={problem ? true : undefined}
                    aria-describedby={problemId}
                    onChange={(e) => patch(row.id, { key: e.target.value })}
                  />
                  <ItemButtons
                    which={which}
                    index={i}
                    count={rows.length}
                    canRemove
                    onMove={(by) => move(i, by)}
                    onRemove={() => remove(i)}
                  />
                </div>
                {problem ? (
                  <p id={problemId} className="field-error">
                    {problem}
                  </p>
                ) : null}
                <FieldRow
                  spec={{ name: row.key, required: true, control: valueControl }}
                  path={[...path, row.accepted ?? `~${row.id}`]}
                  value={row.value}
                  onChange={(v) => patch(row.id, { value: v })}
                  label={leaf ? `${capitalize(name)} value` : capitalize(name)}
                  hideLabel
                />
              </li>
            );
          })}
        </ol>
      ) : (
        <p className="cfg-empty">None yet.</p>
      )}
      <button type="button" className="button button-small cfg-add" ref={focus.add} onClick={add}>
        <UiIcon name="plus" size={14} />
        Add {noun}
      </button>
    </div>
  );
}
