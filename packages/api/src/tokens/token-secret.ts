import { randomBytes } from "node:crypto";
import { tokenHash } from "@sluice/nodes/connectors/http/ingest-endpoint";

// An API token's secret: `slu_` and 43 base64url characters (32 random bytes). Sluice keeps its SHA-256 (the same
// digest webhook ingest tokens always had, so those carry over unchanged) and its first 12 characters, which lists
// show to tell tokens apart.

export const SECRET_PREFIX = "slu_";
const SHOWN_CHARACTERS = SECRET_PREFIX.length + 8;

/** Secrets Sluice issues now, and webhook ingest tokens from before API tokens (`sluice_ing_…`). */
const SECRET_SHAPE = /^[A-Za-z0-9_-]{20,200}$/;

export interface NewSecret {
  /** Shown to its creator once, never stored. */
  secret: string;
  hash: string;
  prefix: string;
}

export function newSecret(): NewSecret {
  const secret = `${SECRET_PREFIX}${randomBytes(32).toString("base64url")}`;
  return { secret, hash: secretHash(secret), prefix: secret.slice(0, SHOWN_CHARACTERS) };
}

/** The stored digest of `secret`; lookups by it are exact matches, so no timing reveals how much of one was right. */
export function secretHash(secret: string): string {
  return tokenHash(secret);
}

/** Whether `text` could be a token at all: anything else is refused without a database read. */
export function looksLikeSecret(text: string): boolean {
  return SECRET_SHAPE.test(text);
}
