import type { Db } from "@sluice/db/client";
import type { Keys } from "@sluice/pipeline/control/keys";
import {
  keyringIds,
  resealJson,
  SecretKeyError,
  type SecretKeyring,
  sealedKeyId,
} from "@sluice/pipeline/control/secret-box";
import type { Redis } from "ioredis";
import {
  queuedConnectionBundles,
  runConnectionBundles,
  type SealedPlace,
  type SealedValue,
  storedConnectionSecrets,
} from "./sealed-values";

// Rotating the secret key while the web app and the workers run (`sluice secrets status` / `rotate`). Every
// process is given the new key as SLUICE_SECRET_KEY and the old one in SLUICE_SECRET_KEY_PREVIOUS, so it seals
// under the new key and still opens what the old one sealed. Rotation then re-seals every sealed value under the
// new key, batch by batch, each only if it did not change meanwhile. A value is always whole under one key or the
// other, so a rotation stopped half-way leaves everything openable, and running it again finishes it. The census
// counts values per key id: when none is left under an old key, that key can go.

export interface SecretRotationDeps {
  db: Db;
  redis: Redis;
  keys: Keys;
  secretKey: SecretKeyring;
}

export interface RotationOptions {
  /** Values read and re-sealed at a time (rows, Redis keys scanned). */
  batchSize?: number;
}

const DEFAULT_BATCH = 100;
/** A value that keeps changing under a rotation (someone saving it again and again) is left to the next one. */
const ATTEMPTS = 3;

export type PlaceCounts = Record<SealedPlace, number>;

/** A sealed value that cannot be dealt with, and why (never a secret). */
export interface SealedProblem {
  label: string;
  message: string;
}

export interface KeyTally extends PlaceCounts {
  /** Null for values sealed before values named their key. */
  keyId: string | null;
  /** `old format`: no key id, opened by trying the keys; `not configured`: no key given has that id. */
  role: "current" | "previous" | "old format" | "not configured";
}

export interface SecretCensus {
  currentKeyId: string;
  previousKeyIds: string[];
  /** Values per key id: the current key first, then the previous ones in order, then the rest. */
  tallies: KeyTally[];
  /** Values that cannot be opened with the keys given: sealed under another key, or not a sealed value. */
  problems: SealedProblem[];
}

export interface RotationReport {
  currentKeyId: string;
  previousKeyIds: string[];
  /** Values sealed anew under the current key. */
  resealed: PlaceCounts;
  /** Values that were under it already (sealed since the new key was set, or by an earlier rotation). */
  alreadyCurrent: PlaceCounts;
  /** Values that changed while they were re-sealed and were read again. */
  reread: number;
  /** Values removed while the rotation ran (a connection deleted, a job cleaned up). */
  vanished: number;
  /** Values left as they were, with the reason: they still need a key this rotation was not given. */
  problems: SealedProblem[];
}

const none = (): PlaceCounts => ({ connections: 0, runs: 0, jobs: 0 });

async function* allSealedValues(deps: SecretRotationDeps, batchSize: number): AsyncGenerator<SealedValue[]> {
  yield* storedConnectionSecrets(deps.db, batchSize);
  yield* runConnectionBundles(deps.redis, deps.keys, batchSize);
  yield* queuedConnectionBundles(deps.redis, deps.keys, batchSize);
}

/** The ring's ids; refuses a ring whose current key shares its id with a previous one (1 in 4 billion). */
async function ringIds(ring: SecretKeyring): Promise<{ current: string; previous: string[] }> {
  const ids = await keyringIds(ring);
  const twin = ids.previous.indexOf(ids.current);
  if (twin >= 0) {
    throw new SecretKeyError(
      `SLUICE_SECRET_KEY and key ${twin + 1} of SLUICE_SECRET_KEY_PREVIOUS share the key id ${ids.current}, so sealed values could not tell them apart: make a new SLUICE_SECRET_KEY (openssl rand -hex 32)`,
    );
  }
  return ids;
}

function problemOf(value: SealedValue, err: unknown): SealedProblem {
  if (!(err instanceof SecretKeyError)) throw err;
  return { label: value.label, message: err.message };
}

/** How many values are sealed under each key, and which cannot be opened with the keys given. Writes nothing. */
export async function secretCensus(deps: SecretRotationDeps, options: RotationOptions = {}): Promise<SecretCensus> {
  const ids = await ringIds(deps.secretKey);
  const tallies = new Map<string | null, KeyTally>();
  const tally = (keyId: string | null, role: KeyTally["role"]) => {
    const t = tallies.get(keyId) ?? { keyId, role, ...none() };
    tallies.set(keyId, t);
    return t;
  };
  tally(ids.current, "current");
  for (const id of ids.previous) tally(id, "previous");
  const problems: SealedProblem[] = [];
  for await (const batch of allSealedValues(deps, options.batchSize ?? DEFAULT_BATCH)) {
    for (const value of batch) {
      let keyId: string | undefined;
      try {
        keyId = sealedKeyId(value.box);
      } catch (err) {
        problems.push(problemOf(value, err));
        continue;
      }
      const known = keyId === undefined || keyId === ids.current || ids.previous.includes(keyId);
      tally(keyId ?? null, keyId === undefined ? "old format" : "not configured")[value.place]++;
      if (!known) {
        problems.push({
          label: value.label,
          message: `it was sealed with key ${keyId}, which is neither SLUICE_SECRET_KEY nor one of SLUICE_SECRET_KEY_PREVIOUS`,
        });
      }
    }
  }
  return { currentKeyId: ids.current, previousKeyIds: ids.previous, tallies: [...tallies.values()], problems };
}

type Outcome = "resealed" | "current" | "vanished" | SealedProblem;

/** Re-seals one value under the current key, reading it again when it changed under us. */
async function rotateOne(ring: SecretKeyring, first: SealedValue): Promise<{ outcome: Outcome; rereads: number }> {
  let value: SealedValue | undefined = first;
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    if (!value) return { outcome: "vanished", rereads: attempt };
    let next: string | undefined;
    try {
      next = await resealJson(ring, value.box, value.context);
    } catch (err) {
      return { outcome: problemOf(value, err), rereads: attempt };
    }
    if (next === undefined) return { outcome: "current", rereads: attempt };
    if (await value.replace(next)) return { outcome: "resealed", rereads: attempt };
    value = await value.reread();
  }
  return {
    outcome: {
      label: first.label,
      message: `it changed ${ATTEMPTS} times while being re-sealed; run the rotation again`,
    },
    rereads: ATTEMPTS,
  };
}

/**
 * Re-seals every sealed value under the current key: connections' secrets first, then the bundles of runs, then
 * those of jobs. Idempotent; values that cannot be opened are reported and left as they are.
 */
export async function rotateSecretKey(
  deps: SecretRotationDeps,
  options: RotationOptions = {},
): Promise<RotationReport> {
  const ids = await ringIds(deps.secretKey);
  const report: RotationReport = {
    currentKeyId: ids.current,
    previousKeyIds: ids.previous,
    resealed: none(),
    alreadyCurrent: none(),
    reread: 0,
    vanished: 0,
    problems: [],
  };
  for await (const batch of allSealedValues(deps, options.batchSize ?? DEFAULT_BATCH)) {
    const results = await Promise.all(batch.map((v) => rotateOne(deps.secretKey, v)));
    results.forEach(({ outcome, rereads }, i) => {
      const place = batch[i]!.place;
      report.reread += rereads;
      if (outcome === "resealed") report.resealed[place]++;
      else if (outcome === "current") report.alreadyCurrent[place]++;
      else if (outcome === "vanished") report.vanished++;
      else report.problems.push(outcome);
    });
  }
  return report;
}
