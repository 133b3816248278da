// AES-256-GCM with the installation's secret key (SLUICE_SECRET_KEY), through WebCrypto so the same code runs in
// the API and the workers. Connection secrets are stored with it in Postgres, and the connections a run needs
// travel to the workers with it, so neither Postgres nor Redis ever holds a secret in clear text.
//
// Keys can be rotated while everything runs: a process seals under its current key only, and opens what any key of
// its ring sealed (SLUICE_SECRET_KEY_PREVIOUS lists the others). A sealed value names the key that sealed it by a
// short id, so opening picks that key instead of trying each one.
//
//   v2.<key id>.<iv>.<ciphertext+tag>   key id: 8 hex characters, the first 4 bytes of SHA-256("sluice key id\0"+key)
//   v1.<iv>.<ciphertext+tag>            written before key ids: opened by trying each key of the ring
//
// iv and ciphertext are base64; the additional data is the value's context (what it belongs to), in both versions.

const CURRENT = "SLUICE_SECRET_KEY";
const PREVIOUS = "SLUICE_SECRET_KEY_PREVIOUS";
const HOW = "32 bytes written as 64 hex characters (openssl rand -hex 32)";

export class SecretKeyError extends Error {
  override name = "SecretKeyError";
}

/** A value sealed under a key this process was not given. `keyId` says which key it needs. */
export class UnknownSecretKeyError extends SecretKeyError {
  override name = "UnknownSecretKeyError";
  constructor(readonly keyId: string) {
    super(`it was sealed with key ${keyId}, which is neither ${CURRENT} nor one of ${PREVIOUS}`);
  }
}

/** The keys a process holds: it seals under `current` and opens what any of them sealed. */
export interface SecretKeyring {
  readonly current: Uint8Array;
  /** Keys the installation sealed with before (or will seal with next): opened, never sealed with. */
  readonly previous: readonly Uint8Array[];
}

/** One key, or a ring of them; a single key is a ring without previous keys. */
export type SecretKeys = Uint8Array | SecretKeyring;

function ring(keys: SecretKeys): SecretKeyring {
  return keys instanceof Uint8Array ? { current: keys, previous: [] } : keys;
}

/** The 32 bytes a key's text stands for; a message naming `variable` (never the value) when it is not a key. */
function keyBytes(text: string, variable: string): Uint8Array {
  const t = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(t)) return Uint8Array.from(t.match(/../g)!.map((h) => Number.parseInt(h, 16)));
  if (/^[A-Za-z0-9+/]{43}=$/.test(t)) return Uint8Array.from(atob(t), (c) => c.charCodeAt(0));
  const hexLength = /^[0-9a-fA-F]+$/.test(t) ? `; it has ${t.length} hex characters` : "";
  throw new SecretKeyError(`${variable} must be ${HOW}${hexLength}`);
}

/** Reads SLUICE_SECRET_KEY: 64 hex characters or 44 base64 characters, i.e. 32 bytes. */
export function parseSecretKey(text: string | undefined): Uint8Array {
  if (!text)
    throw new SecretKeyError(
      `${CURRENT} is not set: give it 32 random bytes as 64 hex characters (openssl rand -hex 32)`,
    );
  return keyBytes(text, CURRENT);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * Reads SLUICE_SECRET_KEY and SLUICE_SECRET_KEY_PREVIOUS (keys written like the current one, separated by commas):
 * undefined when neither is set. Every message names the variable and, for a previous key, its place in the list;
 * none repeats a value.
 */
export function parseSecretKeyring(
  current: string | undefined,
  previous: string | undefined,
): SecretKeyring | undefined {
  const entries = (previous ?? "")
    .split(",")
    .map((e) => e.trim())
    .filter((e) => e !== "");
  if (!current) {
    if (entries.length === 0) return undefined;
    throw new SecretKeyError(
      `${PREVIOUS} is set but ${CURRENT} is not: new secrets are sealed with ${CURRENT}, so set it to the key to use from now on`,
    );
  }
  const key = keyBytes(current, CURRENT);
  const older: Uint8Array[] = [];
  entries.forEach((entry, i) => {
    const which = entries.length === 1 ? `${PREVIOUS}` : `${PREVIOUS} (key ${i + 1} of ${entries.length})`;
    const bytes = keyBytes(entry, which);
    if (sameBytes(bytes, key)) {
      throw new SecretKeyError(
        `${which} is the same key as ${CURRENT}: list only the other keys secrets may be sealed with`,
      );
    }
    const twin = older.findIndex((k) => sameBytes(k, bytes));
    if (twin >= 0) throw new SecretKeyError(`${which} repeats key ${twin + 1} of the list: give each key once`);
    older.push(bytes);
  });
  return { current: key, previous: older };
}

function toBase64(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

function fromBase64(text: string): Uint8Array {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

// Typed off the global crypto object so it compiles with Node's types and with the DOM's alike.
type AesKey = Awaited<ReturnType<typeof crypto.subtle.importKey>>;
type Bytes = Parameters<typeof crypto.subtle.encrypt>[2];

async function importKey(key: Uint8Array): Promise<AesKey> {
  return crypto.subtle.importKey("raw", key as Bytes, "AES-GCM", false, ["encrypt", "decrypt"]);
}

const KEY_ID_LABEL = new TextEncoder().encode("sluice key id\0");
const keyIds = new WeakMap<Uint8Array, Promise<string>>();

/** The id sealed values carry for `key`: 8 hex characters, which tell nothing about the key itself. */
export function secretKeyId(key: Uint8Array): Promise<string> {
  let id = keyIds.get(key);
  if (!id) {
    const data = new Uint8Array(KEY_ID_LABEL.length + key.length);
    data.set(KEY_ID_LABEL);
    data.set(key, KEY_ID_LABEL.length);
    id = crypto.subtle
      .digest("SHA-256", data as Bytes)
      .then((hash) => Array.from(new Uint8Array(hash).subarray(0, 4), (b) => b.toString(16).padStart(2, "0")).join(""));
    keyIds.set(key, id);
  }
  return id;
}

/** The ids of a ring's keys, current first. */
export async function keyringIds(keys: SecretKeys): Promise<{ current: string; previous: string[] }> {
  const r = ring(keys);
  return { current: await secretKeyId(r.current), previous: await Promise.all(r.previous.map(secretKeyId)) };
}

interface Envelope {
  /** Undefined for a v1 value, which does not say. */
  keyId: string | undefined;
  iv: string;
  sealed: string;
}

function envelope(box: string): Envelope {
  const parts = box.split(".");
  if (parts[0] === "v2" && parts.length === 4 && /^[0-9a-f]{8}$/.test(parts[1]!) && parts[2] && parts[3]) {
    return { keyId: parts[1], iv: parts[2], sealed: parts[3] };
  }
  if (parts[0] === "v1" && parts.length === 3 && parts[1] && parts[2]) {
    return { keyId: undefined, iv: parts[1], sealed: parts[2] };
  }
  throw new SecretKeyError("not a sealed value this version can read");
}

/** The id of the key that sealed `box`; undefined for a value sealed before values carried it. */
export function sealedKeyId(box: string): string | undefined {
  return envelope(box).keyId;
}

/** Encrypts a JSON value under the current key: "v2.<key id>.<iv>.<ciphertext+tag>". `context` binds it to its use. */
export async function sealJson(keys: SecretKeys, value: unknown, context: string): Promise<string> {
  const key = ring(keys).current;
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const data = new TextEncoder().encode(JSON.stringify(value));
  const sealed = new Uint8Array(
    await crypto.subtle.encrypt(
      { name: "AES-GCM", iv, additionalData: new TextEncoder().encode(context) },
      await importKey(key),
      data,
    ),
  );
  return `v2.${await secretKeyId(key)}.${toBase64(iv)}.${toBase64(sealed)}`;
}

const FAILED = Symbol("not opened");

async function decrypt(key: Uint8Array, e: Envelope, context: string): Promise<unknown> {
  try {
    const data = await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: fromBase64(e.iv) as Bytes, additionalData: new TextEncoder().encode(context) },
      await importKey(key),
      fromBase64(e.sealed) as Bytes,
    );
    return JSON.parse(new TextDecoder().decode(data));
  } catch {
    return FAILED;
  }
}

/**
 * Decrypts what sealJson wrote with any key of the ring: the one its key id names (a v1 value: each in turn). A
 * key the ring lacks is an UnknownSecretKeyError; a tampered value, or one sealed for another context, a
 * SecretKeyError — never garbage.
 */
export async function openJson<T = unknown>(keys: SecretKeys, box: string, context: string): Promise<T> {
  const e = envelope(box);
  const r = ring(keys);
  const all = [r.current, ...r.previous];
  // Two keys could share an id (1 in 4 billion): each is tried then, in the ring's order.
  const candidates =
    e.keyId === undefined
      ? all
      : (await Promise.all(all.map(secretKeyId))).flatMap((id, i) => (id === e.keyId ? [all[i]!] : []));
  if (e.keyId !== undefined && candidates.length === 0) throw new UnknownSecretKeyError(e.keyId);
  for (const key of candidates) {
    const value = await decrypt(key, e, context);
    if (value !== FAILED) return value as T;
  }
  throw new SecretKeyError(
    e.keyId === undefined
      ? `cannot decrypt: none of the keys given (${CURRENT}, ${PREVIOUS}) opens it; it was sealed with another key, or altered`
      : `cannot decrypt with key ${e.keyId}: the value was altered, or sealed for another use`,
  );
}

/**
 * `box` sealed again under the ring's current key (same value, same context), or undefined when it already is.
 * Throws what openJson throws.
 */
export async function resealJson(keys: SecretKeys, box: string, context: string): Promise<string | undefined> {
  const current = ring(keys).current;
  if (sealedKeyId(box) === (await secretKeyId(current))) return undefined;
  return sealJson(current, await openJson(keys, box, context), context);
}
