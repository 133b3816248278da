"use client";

import { hasStoredSecret, type LeafControlProps, useFormScope } from "../scope";
import { BooleanControl } from "./boolean";
import { ChoiceControl } from "./choice";
import { ListControl } from "./list";
import { NumberControl } from "./number";
import { ScalarControl } from "./scalar";
import { SecretControl } from "./secret";
import { TextControl } from "./text";

/** The control of a leaf field, by its kind; expressions and connections come from the host when it has them. */
export function LeafControl(props: LeafControlProps) {
  const scope = useFormScope();
  const c = props.spec.control;
  switch (c.kind) {
    case "expression":
      return scope.host.expression ? scope.host.expression(props) : <TextControl {...props} monospace />;
    case "connection":
      return scope.host.connection ? scope.host.connection(props) : <TextControl {...props} />;
    case "text":
      return c.secret ? (
        <SecretControl {...props} stored={hasStoredSecret(scope, props.path)} />
      ) : (
        <TextControl {...props} multiline={c.multiline} monospace={c.monospace} />
      );
    case "number":
      return <NumberControl {...props} />;
    case "scalar":
      return <ScalarControl {...props} />;
    case "list":
      return <ListControl {...props} />;
    case "enum":
      return <ChoiceControl {...props} />;
    case "boolean":
      return <BooleanControl {...props} />;
    default:
      // Groups and JSON are drawn by their rows.
      return null;
  }
}
