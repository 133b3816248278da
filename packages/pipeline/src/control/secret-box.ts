// AES-256-GCM with the installation's secret key (SLUICE_SECRET_KEY), through WebCrypto so the same code runs in
// the API and the workers. Connection secrets are stored with it in Postgres, and the connections a run needs
// travel to the workers with it, so neither Postgres nor Redis ever holds a secret in clear text.

const VERSION = "v1";

export class SecretKeyError extends Error {
  override name = "SecretKeyError";
}

/** Reads SLUICE_SECRET_KEY: 64 hex characters or 44 base64 characters, i.e. 32 bytes. */
export function parseSecretKey(text: string | undefined): Uint8Array {
  if (!text)
    throw new SecretKeyError(
      "SLUICE_SECRET_KEY is not set: give it 32 random bytes as 64 hex characters (openssl rand -hex 32)",
    );
  const t = text.trim();
  let bytes: Uint8Array | undefined;
  if (/^[0-9a-fA-F]{64}$/.test(t)) bytes = Uint8Array.from(t.match(/../g)!.map((h) => Number.parseInt(h, 16)));
  else if (/^[A-Za-z0-9+/]{43}=$/.test(t)) bytes = Uint8Array.from(atob(t), (c) => c.charCodeAt(0));
  if (bytes?.length !== 32) {
    throw new SecretKeyError("SLUICE_SECRET_KEY must be 32 bytes written as 64 hex characters (openssl rand -hex 32)");
  }
  return bytes;
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

/** Encrypts a JSON value: "v1.<iv>.<ciphertext+tag>" (base64 parts). `context` binds it to its use. */
export async function sealJson(key: Uint8Array, value: unknown, context: string): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const data = new TextEncoder().encode(JSON.stringify(value));
  const sealed = new Uint8Array(
    await crypto.subtle.encrypt(
      { name: "AES-GCM", iv, additionalData: new TextEncoder().encode(context) },
      await importKey(key),
      data,
    ),
  );
  return `${VERSION}.${toBase64(iv)}.${toBase64(sealed)}`;
}

/** Decrypts what sealJson wrote; a wrong key or a tampered box is a SecretKeyError, never garbage. */
export async function openJson<T = unknown>(key: Uint8Array, box: string, context: string): Promise<T> {
  const [version, iv, sealed] = box.split(".");
  if (version !== VERSION || !iv || !sealed) throw new SecretKeyError("not a sealed value this version can read");
  try {
    const data = await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: fromBase64(iv) as Bytes, additionalData: new TextEncoder().encode(context) },
      await importKey(key),
      fromBase64(sealed) as Bytes,
    );
    return JSON.parse(new TextDecoder().decode(data)) as T;
  } catch {
    throw new SecretKeyError("cannot decrypt: SLUICE_SECRET_KEY differs from the key the secrets were stored with");
  }
}
