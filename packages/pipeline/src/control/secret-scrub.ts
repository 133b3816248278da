// Shared by the API and the workers. Whatever a connection runtime says back (a driver's error, discovered names, sample rows) may quote the secrets it
// was given: a connection string with the password in it, a token echoed by a server. Before anything leaves the API
// every secret value is cut out, in the forms it is commonly written in.

export const REDACTED = "[redacted]";

/** The strings a secret value is made of: strings as they are, numbers as text, nested values too. */
function secretStrings(value: unknown, out: string[], depth = 0): void {
  if (depth > 16 || value === null || value === undefined) return;
  if (typeof value === "string") out.push(value);
  else if (typeof value === "number" || typeof value === "bigint") out.push(String(value));
  else if (Array.isArray(value)) for (const v of value) secretStrings(v, out, depth + 1);
  else if (typeof value === "object") for (const v of Object.values(value)) secretStrings(v, out, depth + 1);
}

/** A secret as it may appear in text: as is, URL-encoded, JSON-escaped, base64 (plain and URL-safe), hex. */
export function secretForms(secret: string): string[] {
  // Web APIs only, so the API and the workers share one scrubber.
  const utf8 = new TextEncoder().encode(secret);
  let binary = "";
  for (const b of utf8) binary += String.fromCharCode(b);
  const base64 = btoa(binary);
  const hex = Array.from(utf8, (b) => b.toString(16).padStart(2, "0")).join("");
  return [
    secret,
    encodeURIComponent(secret),
    JSON.stringify(secret).slice(1, -1),
    base64,
    base64.replace(/=+$/, ""),
    base64.replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, ""),
    hex,
    hex.toUpperCase(),
  ];
}

export interface SecretScrubber {
  /** `text` with every secret replaced by [redacted]. */
  text(text: string): string;
  /** A copy of a JSON-like value with every string (and object key) scrubbed. */
  value<T>(value: T): T;
}

export function secretScrubber(secrets: unknown): SecretScrubber {
  const raw: string[] = [];
  secretStrings(secrets, raw);
  // Longest first, so a secret that contains another is cut out whole.
  const forms = [...new Set(raw.filter((s) => s.length > 0).flatMap(secretForms))]
    .filter((f) => f.length > 0)
    .sort((a, b) => b.length - a.length);
  const text = (t: string) => {
    let out = t;
    for (const form of forms) if (out.includes(form)) out = out.split(form).join(REDACTED);
    return out;
  };
  const value = (v: unknown, depth: number): unknown => {
    if (typeof v === "string") return text(v);
    if (depth > 64 || v === null || typeof v !== "object") return v;
    if (v instanceof Date) return v;
    if (Array.isArray(v)) return v.map((x) => value(x, depth + 1));
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [text(k), value(x, depth + 1)]));
  };
  return { text: forms.length === 0 ? (t) => t : text, value: <T>(v: T) => value(v, 0) as T };
}
