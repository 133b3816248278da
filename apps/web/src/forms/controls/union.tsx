"use client";

import { FieldRow } from "../field-row";
import { memberOf, type UnionMember } from "../schema";
import { type GroupBodyProps, useFormScope } from "../scope";
import { isRecord, switchMember } from "../values";

const memberKey = (m: UnionMember) => `${m.accepts}:${m.tag ? String(m.tag.value) : m.label}`;

/** A value of one of several shapes: radio buttons (or a select, for many or tagged members), then the member. */
export function UnionControl({
  members,
  path,
  value,
  onChange,
  label,
  required,
}: GroupBodyProps & { members: UnionMember[] }) {
  const scope = useFormScope();
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
