"use client";

import type { GroupBodyProps } from "../scope";
import { ArrayControl } from "./array";
import { ObjectControl } from "./object";
import { OneKeyControl } from "./one-key";
import { RecordControl } from "./record";
import { UnionControl } from "./union";

/** The body of a group row, by the group's kind. */
export function GroupBody(props: GroupBodyProps) {
  const c = props.control;
  switch (c.kind) {
    case "object":
      return <ObjectControl fields={c.fields} {...props} />;
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
