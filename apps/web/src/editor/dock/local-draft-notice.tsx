"use client";

import { useEffect, useId, useRef, useState } from "react";
import { useEditor, useEditorStore } from "../editor-context";
import { type EditorStore, isDirty, type LoadedPipeline } from "../store/editor-store";
import {
  DRAFT_FORMAT,
  DRAFT_WRITE_DEBOUNCE_MS,
  type DraftStorage,
  draftStatus,
  draftTimeText,
  type LocalDraft,
  type ParseDefinition,
  readDraft,
  removeDraft,
  removeDraftUnlessNewer,
  sameDefinition,
  writeDraft,
} from "../store/local-draft";

// The store and React side of local drafts (local-draft.ts): the draft is read and, when it fits, applied as the
// store is made; while the content has unsaved changes it is written back (debounced, and at once when the page
// goes away); once the content is saved, reloaded or back to the saved state, it is removed.

/** What to tell the user about the draft found on opening the pipeline. */
export type DraftOffer =
  /** Applied: the editor shows it as unsaved changes. */
  | { kind: "restored"; savedAt: number }
  /** Made on an older version: applied only if the user asks. */
  | { kind: "stale"; draft: LocalDraft; savedVersion: number };

function browserStorage(): DraftStorage | null {
  try {
    return typeof window === "undefined" ? null : window.localStorage;
  } catch {
    return null; // blocked by the browser's settings
  }
}

/** Reads the pipeline's draft into a freshly made store: applies it when it is based on the loaded version. */
export function openLocalDraft(
  store: EditorStore,
  saved: LoadedPipeline,
  key: string,
  parseDefinition: ParseDefinition,
): DraftOffer | null {
  const storage = browserStorage();
  if (!storage) return null;
  const draft = readDraft(storage, key, saved.id, parseDefinition);
  if (!draft) return null;
  try {
    if (sameDefinition(draft.definition, store.getState().definition())) {
      removeDraft(storage, key); // nothing unsaved in it
      return null;
    }
    if (draftStatus(draft, saved.version.number) === "stale") {
      return { kind: "stale", draft, savedVersion: saved.version.number };
    }
    store.getState().restoreDefinition(draft.definition);
    return { kind: "restored", savedAt: draft.savedAt };
  } catch {
    removeDraft(storage, key);
    store.getState().load(saved);
    return null;
  }
}

/**
 * Keeps the stored draft in step with the store. Starts paused when an older draft is on offer: nothing is written
 * or removed, so that draft stays until the user decides; the returned `resume` ends the pause.
 */
function useDraftWriter(store: EditorStore, key: string, startPaused: boolean): () => void {
  const paused = useRef(startPaused);
  const sync = useRef<() => void>(() => {});
  useEffect(() => {
    const storage = browserStorage();
    if (!storage) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    // The stored draft is this tab's when written here, or before this tab opened (it was restored or offered here).
    // One written later is another tab's, with the same pipeline open: saving or reloading here leaves it alone.
    let ownSince = Date.now();
    const removeOwn = () => removeDraftUnlessNewer(storage, key, ownSince);
    const write = () => {
      timer = undefined;
      const state = store.getState();
      if (!isDirty(state)) {
        removeOwn();
        return;
      }
      ownSince = Date.now();
      writeDraft(storage, key, {
        format: DRAFT_FORMAT,
        pipelineId: state.pipelineId,
        baseVersion: state.baseVersion,
        savedAt: ownSince,
        definition: state.definition(),
      });
    };
    const flush = () => {
      if (timer === undefined) return;
      clearTimeout(timer);
      write();
    };
    sync.current = () => {
      if (paused.current) return;
      clearTimeout(timer);
      if (isDirty(store.getState())) {
        timer = setTimeout(write, DRAFT_WRITE_DEBOUNCE_MS);
      } else {
        timer = undefined;
        removeOwn(); // saved, reloaded or undone to the saved state: at once
      }
    };
    const unsubscribe = store.subscribe((state, previous) => {
      const changed =
        state.edits !== previous.edits ||
        state.savedEdits !== previous.savedEdits ||
        state.baseVersion !== previous.baseVersion;
      if (changed) sync.current();
    });
    window.addEventListener("pagehide", flush);
    window.addEventListener("beforeunload", flush);
    return () => {
      unsubscribe();
      window.removeEventListener("pagehide", flush);
      window.removeEventListener("beforeunload", flush);
      flush();
      sync.current = () => {};
    };
  }, [store, key]);
  const [resume] = useState(() => () => {
    if (!paused.current) return;
    paused.current = false;
    sync.current();
  });
  return resume;
}

function DraftTime({ at }: { at: number }) {
  return <time dateTime={new Date(at).toISOString()}>{draftTimeText(at)}</time>;
}

const bannerStyle = { background: "var(--accent-soft)", borderBottom: "1px solid #c7d2fe", alignItems: "center" };

/** Writes the draft, and tells about the one found on opening: restored (with Discard), or older (restore or discard). */
export function LocalDraftNotice({
  storageKey,
  saved,
  initialOffer,
}: {
  storageKey: string;
  /** The version the editor was opened on: what Discard goes back to. */
  saved: LoadedPipeline;
  initialOffer: DraftOffer | null;
}) {
  const store = useEditorStore();
  const [offer, setOffer] = useState(initialOffer);
  const resumeWriting = useDraftWriter(store, storageKey, initialOffer?.kind === "stale");
  const dirty = useEditor(isDirty);
  const textId = useId();

  // Saved, reloaded or undone to the saved version: nothing restored is left to discard.
  useEffect(() => {
    if (!dirty && offer?.kind === "restored") setOffer(null);
  }, [dirty, offer]);

  if (!offer) return null;

  const discard = () => {
    const storage = browserStorage();
    if (storage) removeDraft(storage, storageKey);
    if (offer.kind === "restored") store.getState().load(saved);
    resumeWriting(); // edits made while an older draft was on offer are kept from now on
    setOffer(null);
  };

  if (offer.kind === "stale") {
    const { draft, savedVersion } = offer;
    const restore = () => {
      resumeWriting();
      // On top of the newest version: the store's baseVersion stays, so a save is checked against it as usual.
      store.getState().restoreDefinition(draft.definition);
      setOffer({ kind: "restored", savedAt: draft.savedAt });
    };
    return (
      <div className="editor-banner" role="status" style={bannerStyle}>
        <span id={textId}>
          You have unsaved changes from <DraftTime at={draft.savedAt} />, made on v{draft.baseVersion}. v{savedVersion}{" "}
          has been saved since: restoring them replaces what it changed.
        </span>
        <span className="restored-actions">
          <button type="button" className="button button-small" onClick={restore} aria-describedby={textId}>
            Restore anyway
          </button>
          <button type="button" className="button button-small" onClick={discard} aria-describedby={textId}>
            Discard
          </button>
        </span>
      </div>
    );
  }

  return (
    <div className="editor-banner" role="status" style={bannerStyle}>
      <span id={textId}>
        Restored unsaved changes from <DraftTime at={offer.savedAt} />.
      </span>
      <span className="restored-actions">
        <button type="button" className="button button-small" onClick={discard} aria-describedby={textId}>
          Discard
        </button>
        <button type="button" className="icon-button" onClick={() => setOffer(null)} aria-label="Keep the changes">
          ×
        </button>
      </span>
    </div>
  );
}
