import { EXPR_LIMITS, utf8Length } from "./limits";
import { type Span, span } from "./position";

export type TokenKind = "number" | "string" | "identifier" | "quoted-identifier" | "parameter" | "operator" | "eof";

export interface Token {
  kind: TokenKind;
  /** Decoded text: the identifier or operator, the string's content without quotes, the parameter's name. */
  value: string;
  start: number;
  end: number;
}

export interface LexFailure {
  code: "syntax" | "limit";
  message: string;
  at: Span;
  expected?: string[];
}

export type LexResult = { ok: true; tokens: Token[] } | { ok: false; error: LexFailure };

// Longest first, so `<=` wins over `<`.
const OPERATORS = [
  "<>",
  "!=",
  "<=",
  ">=",
  "||",
  "::",
  "==",
  "=",
  "<",
  ">",
  "+",
  "-",
  "*",
  "/",
  "%",
  "(",
  ")",
  ",",
  ".",
  "[",
  "]",
];

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function isIdentStart(ch: string): boolean {
  return /[\p{L}_]/u.test(ch);
}

function isIdentPart(ch: string): boolean {
  return /[\p{L}\p{N}_$]/u.test(ch);
}

function isAsciiIdentStart(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}

function isAsciiIdentPart(c: number): boolean {
  return isAsciiIdentStart(c) || isDigit(c) || c === 36;
}

/** Splits expression text into tokens; comments and white space are dropped. Never throws. */
export function tokenize(source: string): LexResult {
  const tokens: Token[] = [];
  const n = source.length;
  let i = 0;
  const fail = (message: string, start: number, end: number, expected?: string[]): LexResult => {
    const error: LexFailure = { code: "syntax", message, at: span(start, Math.min(end, n)) };
    if (expected) error.expected = expected;
    return { ok: false, error };
  };
  while (i < n) {
    const c = source.charCodeAt(i);
    // white space
    if (c === 32 || c === 9 || c === 10 || c === 13 || c === 12 || c === 0xa0 || c === 0xfeff) {
      i++;
      continue;
    }
    // -- line comment
    if (c === 45 && source.charCodeAt(i + 1) === 45) {
      while (i < n && source.charCodeAt(i) !== 10) i++;
      continue;
    }
    // /* block comment */
    if (c === 47 && source.charCodeAt(i + 1) === 42) {
      const close = source.indexOf("*/", i + 2);
      if (close < 0) return fail("Unterminated comment: expected */", i, n, ["*/"]);
      i = close + 2;
      continue;
    }
    const start = i;
    // numbers: 12, 1.5, .5, 1e3, 2.5E-4
    if (isDigit(c) || (c === 46 && isDigit(source.charCodeAt(i + 1)))) {
      while (i < n && isDigit(source.charCodeAt(i))) i++;
      if (source.charCodeAt(i) === 46 && isDigit(source.charCodeAt(i + 1))) {
        i++;
        while (i < n && isDigit(source.charCodeAt(i))) i++;
      } else if (source.charCodeAt(i) === 46 && !isAsciiIdentStart(source.charCodeAt(i + 1))) {
        i++; // "1." is a number; "1.foo" is left for the parser to reject
      }
      const e = source.charCodeAt(i);
      if (e === 101 || e === 69) {
        let j = i + 1;
        const sign = source.charCodeAt(j);
        if (sign === 43 || sign === 45) j++;
        if (isDigit(source.charCodeAt(j))) {
          while (j < n && isDigit(source.charCodeAt(j))) j++;
          i = j;
        } else {
          return fail("Malformed number: expected digits after the exponent", start, j, ["a digit"]);
        }
      }
      if (i < n && isIdentPart(source.charAt(i))) {
        let j = i;
        while (j < n && isIdentPart(source.charAt(j))) j++;
        return fail(`Malformed number "${source.slice(start, j)}"`, start, j);
      }
      tokens.push({ kind: "number", value: source.slice(start, i), start, end: i });
      continue;
    }
    // 'string' with '' as an escaped quote
    if (c === 39) {
      const text = readQuoted(source, i, "'");
      if (text === undefined) return fail("Unterminated string: expected a closing '", start, n, ["'"]);
      if (utf8Length(text.value) > EXPR_LIMITS.maxStringBytes) {
        return {
          ok: false,
          error: {
            code: "limit",
            message: `String literal is longer than ${EXPR_LIMITS.maxStringBytes} bytes`,
            at: span(start, text.end),
          },
        };
      }
      tokens.push({ kind: "string", value: text.value, start, end: text.end });
      i = text.end;
      continue;
    }
    // "quoted identifier" with "" as an escaped quote
    if (c === 34) {
      const text = readQuoted(source, i, '"');
      if (text === undefined) return fail('Unterminated quoted identifier: expected a closing "', start, n, ['"']);
      if (text.value.length === 0) return fail('Empty quoted identifier ""', start, text.end);
      tokens.push({ kind: "quoted-identifier", value: text.value, start, end: text.end });
      i = text.end;
      continue;
    }
    // {{parameter}}
    if (c === 123) {
      if (source.charCodeAt(i + 1) !== 123) return fail('Unexpected "{": parameters are written {{name}}', i, i + 1);
      let j = i + 2;
      while (source.charCodeAt(j) === 32) j++;
      const nameStart = j;
      while (j < n && (isAsciiIdentPart(source.charCodeAt(j)) || source.charCodeAt(j) === 45)) j++;
      const name = source.slice(nameStart, j);
      while (source.charCodeAt(j) === 32) j++;
      if (name.length === 0 || !isAsciiIdentStart(name.charCodeAt(0))) {
        return fail("Expected a parameter name after {{", nameStart, Math.max(j, nameStart + 1), ["a parameter name"]);
      }
      if (source.charCodeAt(j) !== 125 || source.charCodeAt(j + 1) !== 125) {
        return fail(`Unterminated parameter {{${name}: expected }}`, start, j, ["}}"]);
      }
      i = j + 2;
      tokens.push({ kind: "parameter", value: name, start, end: i });
      continue;
    }
    // identifiers and keywords
    if (isAsciiIdentStart(c) || (c > 127 && isIdentStart(source.charAt(i)))) {
      i++;
      while (i < n) {
        const d = source.charCodeAt(i);
        if (isAsciiIdentPart(d) || (d > 127 && isIdentPart(source.charAt(i)))) i++;
        else break;
      }
      tokens.push({ kind: "identifier", value: source.slice(start, i), start, end: i });
      continue;
    }
    const op = OPERATORS.find((o) => source.startsWith(o, i));
    if (op !== undefined) {
      i += op.length;
      tokens.push({ kind: "operator", value: op, start, end: i });
      continue;
    }
    const ch = String.fromCodePoint(source.codePointAt(i) ?? c);
    return fail(`Unexpected character "${ch}"`, i, i + ch.length);
  }
  tokens.push({ kind: "eof", value: "", start: n, end: n });
  return { ok: true, tokens };
}

function readQuoted(source: string, open: number, quote: string): { value: string; end: number } | undefined {
  let value = "";
  let i = open + 1;
  for (;;) {
    const close = source.indexOf(quote, i);
    if (close < 0) return undefined;
    value += source.slice(i, close);
    if (source[close + 1] === quote) {
      value += quote;
      i = close + 2;
    } else {
      return { value, end: close + 1 };
    }
  }
}
