// What every procedure's input must be before its own schema looks at it, checked once for all of them in the
// procedure ladder (trpc.ts): PostgreSQL refuses U+0000 in text and in jsonb, and unpaired UTF-16 surrogates in
// jsonb, and a value nested thousands of levels deep overflows the stack of whatever walks it recursively
// (JSON.stringify, Prisma, zod). Refusing them here, with the field's path, turns what were 500s into 400s.

/** Deepest nesting accepted anywhere in an input: a pipeline node's settings start 4 levels down. */
const MAX_INPUT_DEPTH = 64;

export interface InputProblem {
  /** Where, as zod paths are: keys and array indexes from the input's root. */
  path: (string | number)[];
  message: string;
}

const UNPAIRED_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function textProblem(text: string): string | null {
  if (text.includes("\u0000")) return "remove the NUL character (\\u0000): text cannot contain it";
  if (UNPAIRED_SURROGATE.test(text)) return "the text is not valid Unicode (it holds an unpaired surrogate)";
  return null;
}

/**
 * The first problem found in `input` (a parsed JSON value, or what an in-process caller passed), or null. Iterative,
 * so a value of any depth is walked without recursion. `checkText: false` looks at the depth only.
 */
export function findInputProblem(input: unknown, maxDepth = MAX_INPUT_DEPTH, checkText = true): InputProblem | null {
  const stack: { value: unknown; path: (string | number)[] }[] = [{ value: input, path: [] }];
  while (stack.length > 0) {
    const { value, path } = stack.pop()!;
    if (typeof value === "string") {
      const message = checkText ? textProblem(value) : null;
      if (message) return { path, message };
      continue;
    }
    if (value === null || typeof value !== "object") continue;
    if (value instanceof Date) continue;
    if (path.length >= maxDepth) {
      return { path, message: `the value is nested more than ${maxDepth} levels deep` };
    }
    if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push({ value: value[i], path: [...path, i] });
      continue;
    }
    const entries = Object.entries(value);
    for (let i = entries.length - 1; i >= 0; i--) {
      const [key, item] = entries[i]!;
      const message = checkText ? textProblem(key) : null;
      if (message) return { path: [...path, key], message: `in this key: ${message}` };
      stack.push({ value: item, path: [...path, key] });
    }
  }
  return null;
}

/** "definition.spec.nodes.3.config" — the form zod issues and the API's messages use. */
export function pathText(path: readonly PropertyKey[]): string {
  return path.length > 0 ? path.map(String).join(".") : "input";
}
