import type { AnyConnectionTypeDefinition } from "@sluice/pipeline/connection-definition";
import { secretFields } from "@sluice/pipeline/connection-definition";
import {
  openJson,
  SecretKeyError,
  type SecretKeys,
  sealJson,
  UnknownSecretKeyError,
} from "@sluice/pipeline/control/secret-box";
import type { SecretScrubber } from "@sluice/pipeline/control/secret-scrub";
import { TRPCError } from "@trpc/server";
import { z } from "zod";

// A connection's secret fields live apart from the rest of its config: sealed with SLUICE_SECRET_KEY for the
// context `connection:<id>` (so a sealed value copied onto another row does not open), in the row's `secrets`.
// They open with that key or one of SLUICE_SECRET_KEY_PREVIOUS while `sluice secrets rotate` re-seals them.

export type SecretValues = Record<string, unknown>;

export function secretsContext(connectionId: string): string {
  return `connection:${connectionId}`;
}

const SET_THE_KEY =
  "set SLUICE_SECRET_KEY (32 random bytes as 64 hex characters: openssl rand -hex 32) for the web app and every worker";

/** The key, or a BAD_REQUEST saying why it is needed and how to set it. */
export function requireKey(key: SecretKeys | undefined, why: string): SecretKeys {
  if (!key)
    throw new TRPCError({ code: "BAD_REQUEST", message: `${why}, but the server has no secret key: ${SET_THE_KEY}` });
  return key;
}

export async function sealSecrets(
  key: SecretKeys,
  connectionId: string,
  secrets: SecretValues,
): Promise<Uint8Array<ArrayBuffer>> {
  const sealed = await sealJson(key, secrets, secretsContext(connectionId));
  return new Uint8Array(Buffer.from(sealed, "utf8"));
}

export async function openSecrets(
  key: SecretKeys | undefined,
  row: { id: string; name: string; secrets: Uint8Array | null },
): Promise<SecretValues> {
  if (!row.secrets || row.secrets.length === 0) return {};
  const k = requireKey(key, `connection "${row.name}" has secrets`);
  try {
    return await openJson<SecretValues>(k, Buffer.from(row.secrets).toString("utf8"), secretsContext(row.id));
  } catch (err) {
    if (!(err instanceof SecretKeyError)) throw err;
    const why =
      err instanceof UnknownSecretKeyError
        ? `they were sealed with key ${err.keyId}, which this server does not have; add that key to SLUICE_SECRET_KEY_PREVIOUS, or enter the secrets anew`
        : `${err.message}; enter the secrets anew`;
    throw new TRPCError({
      code: "BAD_REQUEST",
      message: `cannot open the secrets of connection "${row.name}": ${why}`,
    });
  }
}

/** A config as the form sent it, split into the fields stored in clear and the secret ones (null = cleared). */
export function splitConfig(
  def: AnyConnectionTypeDefinition,
  config: Record<string, unknown>,
): { plain: Record<string, unknown>; secrets: Record<string, unknown> } {
  const names = new Set(secretFields(def));
  const plain: Record<string, unknown> = {};
  const secrets: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(config)) {
    if (v === undefined) continue;
    if (names.has(k)) secrets[k] = v;
    else plain[k] = v;
  }
  return { plain, secrets };
}

/**
 * The stored secrets updated by what a form sent: a field left out keeps its value, null clears it, a value
 * replaces it. Returns only the fields that have a value.
 */
export function mergeSecrets(stored: SecretValues, sent: Record<string, unknown>): SecretValues {
  const out: SecretValues = { ...stored };
  for (const [k, v] of Object.entries(sent)) {
    if (v === null) delete out[k];
    else out[k] = v;
  }
  return out;
}

/**
 * Checks a whole config (secrets included) against its type's schema; BAD_REQUEST naming each field
 * (`config.port: …`), with the fields in `data.fields` for the form. Messages are scrubbed of the secrets.
 */
export function parseConfig(
  def: AnyConnectionTypeDefinition,
  config: Record<string, unknown>,
  scrub: SecretScrubber,
  where = "config",
): Record<string, unknown> {
  const parsed = def.config.safeParse(config);
  if (parsed.success) return parsed.data as Record<string, unknown>;
  const issues = parsed.error.issues.map((i) => ({
    code: "custom" as const,
    path: [where, ...i.path.map((p) => (typeof p === "number" ? p : String(p)))],
    message: scrub.text(i.message),
  }));
  throw new TRPCError({
    code: "BAD_REQUEST",
    message: issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "),
    // ZodRealError, not ZodError: only the former is an Error, which tRPC keeps as the cause (data.fields).
    cause: new z.ZodRealError(issues),
  });
}
