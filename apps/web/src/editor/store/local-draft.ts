import type { PipelineDefinition } from "@sluice/pipeline/definition";

// A local draft: the editor's unsaved content, kept in localStorage so a reload (or a crash) does not lose it. One
// key per user and pipeline; the entry records the saved version the edits started from, so a draft made before someone
// else saved is never applied silently. Pure functions only (the storage is passed in); the store and React
// wiring is in local-draft-banner.tsx.

export const DRAFT_FORMAT = 1;
export const DRAFT_WRITE_DEBOUNCE_MS = 300;
const KEY_PREFIX = "sluice:draft:";

export interface LocalDraft {
  format: typeof DRAFT_FORMAT;
  pipelineId: string;
  /** The saved version the unsaved edits are based on. */
  baseVersion: number;
  /** When the draft was written (ms since the epoch). */
  savedAt: number;
  definition: PipelineDefinition;
}

/** The part of the Web Storage API the drafts use. */
export type DraftStorage = Pick<Storage, "getItem" | "setItem" | "removeItem">;

/** Checks a definition in full (the runtime's zod schema); null when it is not one. */
export type ParseDefinition = (value: unknown) => PipelineDefinition | null;

/** The key of a user's draft of a pipeline: people who share a browser and a workspace never see each other's. */
export function draftKey(userId: string, pipelineId: string): string {
  return `${KEY_PREFIX}${userId}:${pipelineId}`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The draft in `raw` (the stored JSON text), or null when it is not a well-formed draft of `pipelineId`. */
export function parseDraft(raw: string, pipelineId: string, parseDefinition: ParseDefinition): LocalDraft | null {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return null;
  }
  if (!isRecord(value) || value.format !== DRAFT_FORMAT || value.pipelineId !== pipelineId) return null;
  const { baseVersion, savedAt } = value;
  if (typeof baseVersion !== "number" || !Number.isInteger(baseVersion) || baseVersion < 1) return null;
  if (typeof savedAt !== "number" || !Number.isFinite(savedAt)) return null;
  let definition: PipelineDefinition | null;
  try {
    definition = parseDefinition(value.definition);
  } catch {
    return null;
  }
  return definition ? { format: DRAFT_FORMAT, pipelineId, baseVersion, savedAt, definition } : null;
}

/**
 * The stored draft of a pipeline, or null. A draft that cannot be read or is not well formed is removed, so it
 * never comes back.
 */
export function readDraft(
  storage: DraftStorage,
  key: string,
  pipelineId: string,
  parseDefinition: ParseDefinition,
): LocalDraft | null {
  let raw: string | null;
  try {
    raw = storage.getItem(key);
  } catch {
    return null; // storage blocked: nothing to read, nothing to remove
  }
  if (raw === null) return null;
  const draft = parseDraft(raw, pipelineId, parseDefinition);
  if (!draft) removeDraft(storage, key);
  return draft;
}

/** Stores a draft; false when the storage refused it (full, or blocked). */
export function writeDraft(storage: DraftStorage, key: string, draft: LocalDraft): boolean {
  try {
    storage.setItem(key, JSON.stringify(draft));
    return true;
  } catch {
    return false;
  }
}

export function removeDraft(storage: DraftStorage, key: string): void {
  try {
    storage.removeItem(key);
  } catch {
    // storage blocked: there is nothing stored either
  }
}

/**
 * Removes the stored draft unless it was written after `since`: the pipeline may be open in another tab too, whose
 * unsaved edits share the key, and saving (or reloading) in one tab must not throw away what the other keeps.
 */
export function removeDraftUnlessNewer(storage: DraftStorage, key: string, since: number): void {
  let savedAt: unknown;
  try {
    const raw = storage.getItem(key);
    if (raw === null) return;
    savedAt = (JSON.parse(raw) as { savedAt?: unknown } | null)?.savedAt;
  } catch {
    // blocked storage or not JSON: nothing of another tab's to keep
  }
  if (typeof savedAt === "number" && savedAt > since) return;
  removeDraft(storage, key);
}

/** Whether a draft can be applied as it is ("current") or was made on an older (or other) version ("stale"). */
export function draftStatus(draft: LocalDraft, savedVersion: number): "current" | "stale" {
  return draft.baseVersion === savedVersion ? "current" : "stale";
}

/** JSON with object keys sorted, so two definitions compare equal whatever order their keys were written in. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    isRecord(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}

/** Whether two definitions have the same content (a draft equal to the saved version holds nothing unsaved). */
export function sameDefinition(a: PipelineDefinition, b: PipelineDefinition): boolean {
  return canonical(a) === canonical(b);
}

const timeOnly = new Intl.DateTimeFormat("en", { timeStyle: "short" });
const dateAndTime = new Intl.DateTimeFormat("en", { dateStyle: "medium", timeStyle: "short" });

/** When a draft was written, for the notice: the time for today's drafts, else the date and time. */
export function draftTimeText(savedAt: number, now = Date.now()): string {
  const at = new Date(savedAt);
  return at.toDateString() === new Date(now).toDateString() ? timeOnly.format(at) : dateAndTime.format(at);
}
