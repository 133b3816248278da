import { API_VERSION } from "./definition";

// Older pipeline files keep loading: each known older apiVersion has an upgrade to the next one, applied in
// turn until the document is at the current version. Upgrades are pure functions of the raw document, run
// before validation, so a file written years ago is validated exactly like a new one.

export type RawDocument = Record<string, unknown>;

export interface DefinitionUpgrade {
  /** The apiVersion this upgrade reads. */
  from: string;
  /** The apiVersion it writes. */
  to: string;
  upgrade(document: RawDocument): RawDocument;
}

/** Every format older than sluice/v1 that Sluice can still read. v1 is the first published format. */
const DEFINITION_UPGRADES: readonly DefinitionUpgrade[] = [];

export type UpgradeResult =
  | { ok: true; value: unknown; upgradedFrom?: string }
  | { ok: false; message: string; apiVersion: string };

export function upgradeDefinition(
  input: unknown,
  upgrades: readonly DefinitionUpgrade[] = DEFINITION_UPGRADES,
): UpgradeResult {
  if (input === null || typeof input !== "object" || Array.isArray(input)) return { ok: true, value: input };
  let document = input as RawDocument;
  const original = document.apiVersion;
  if (typeof original !== "string" || original === API_VERSION) return { ok: true, value: input };
  const byFrom = new Map(upgrades.map((u) => [u.from, u]));
  if (!byFrom.has(original)) {
    const known = [API_VERSION, ...upgrades.map((u) => u.from)].map((v) => `"${v}"`).join(", ");
    return {
      ok: false,
      apiVersion: original,
      message: `apiVersion "${original}" is not one this Sluice reads (it reads ${known})`,
    };
  }
  const seen = new Set<string>();
  for (let version = original; version !== API_VERSION; ) {
    const step = byFrom.get(version);
    if (!step || seen.has(version)) {
      return {
        ok: false,
        apiVersion: original,
        message: `no upgrade path from apiVersion "${original}" to "${API_VERSION}"`,
      };
    }
    seen.add(version);
    document = { ...step.upgrade(document), apiVersion: step.to };
    version = step.to;
  }
  return { ok: true, value: document, upgradedFrom: original };
}
