import { createContext, type ReactNode, useContext } from "react";
import type { Control, FieldSpec } from "./schema";
import type { ConfigPath } from "./values";

// What every row of a generated form reads from the form around it: ids and issues by config path, the controls
// the host supplies (the editor's expression input and connection picker), and which secrets are stored. Groups
// render their bodies through `renderGroup`, so rows and the group controls that hold rows need not import each other.

/** What a leaf control gets from its row. */
export interface LeafControlProps {
  spec: FieldSpec;
  /** The field's full path in the config. */
  path: ConfigPath;
  id: string;
  value: unknown;
  describedBy: string | undefined;
  invalid: boolean;
  onChange: (value: unknown) => void;
}

/** What a group control (object, choice, union, list, map) gets from its row. */
export interface GroupBodyProps {
  control: Control;
  path: ConfigPath;
  value: unknown;
  onChange: (value: unknown) => void;
  label: string;
  required: boolean;
  hidden?: ReadonlySet<string> | undefined;
}

/** Controls only a host can draw (they need its context); without one the field is a plain text input. */
export interface HostControls {
  expression?: (props: LeafControlProps) => ReactNode;
  connection?: (props: LeafControlProps) => ReactNode;
  /**
   * "Make this a parameter" on a leaf field: the host declares a parameter for the field and returns what the field
   * holds instead (`{{name}}`), or undefined when the field cannot be one. Rows offer it only when it is given.
   */
  parameterize?: (spec: FieldSpec, path: ConfigPath, value: unknown) => string | undefined;
  /** Whether the field could become a parameter now (its kind and value allow it). */
  canParameterize?: (spec: FieldSpec, value: unknown) => boolean;
}

export interface FormScope {
  /** The id of the control that shows `path`. */
  idFor(path: ConfigPath): string;
  /** Issue sentences that belong to the control at `path`. */
  issuesAt(path: ConfigPath): readonly string[];
  renderGroup(props: GroupBodyProps): ReactNode;
  host: HostControls;
  /** Top-level secret field name → whether a value is stored (write-only: the value itself never comes back). */
  storedSecrets: Readonly<Record<string, boolean>>;
}

export const FormScopeContext = createContext<FormScope | null>(null);

export function useFormScope(): FormScope {
  const scope = useContext(FormScopeContext);
  if (!scope) throw new Error("form rows need a FormScopeContext provider");
  return scope;
}

/** Whether the secret field at `path` has a stored value (secrets are top-level fields). */
export function hasStoredSecret(scope: FormScope, path: ConfigPath): boolean {
  return path.length === 1 && scope.storedSecrets[String(path[0])] === true;
}
