import { emptyDefinition, PipelineDefinition } from "@sluice/pipeline/definition";
import { describe, expect, it } from "vitest";
import {
  DRAFT_FORMAT,
  type DraftStorage,
  draftKey,
  draftStatus,
  draftTimeText,
  type LocalDraft,
  parseDraft,
  readDraft,
  removeDraft,
  removeDraftUnlessNewer,
  sameDefinition,
  writeDraft,
} from "./local-draft";

const parse = (value: unknown) => {
  const parsed = PipelineDefinition.safeParse(value);
  return parsed.success ? parsed.data : null;
};

class MemoryStorage implements DraftStorage {
  readonly items = new Map<string, string>();
  getItem(key: string): string | null {
    return this.items.get(key) ?? null;
  }
  setItem(key: string, value: string): void {
    this.items.set(key, value);
  }
  removeItem(key: string): void {
    this.items.delete(key);
  }
}

/** A storage the browser refuses to use (blocked, or full). */
const blocked: DraftStorage = {
  getItem: () => {
    throw new Error("SecurityError");
  },
  setItem: () => {
    throw new Error("QuotaExceededError");
  },
  removeItem: () => {
    throw new Error("SecurityError");
  },
};

function definition(where = "status = 200"): PipelineDefinition {
  const def = emptyDefinition("orders");
  def.spec.nodes.push(
    { id: "gen", type: "source.generator", config: { count: 100 }, ui: { x: 0, y: 0 } },
    { id: "keep", type: "transform.filter", config: { where }, ui: { x: 200, y: 40 } },
  );
  def.spec.edges.push({ from: "gen", to: "keep" });
  def.ui = { notes: [{ id: "note-1", x: 0, y: 200, width: 200, height: 80, text: "why" }] };
  return def;
}

function draft(overrides: Partial<LocalDraft> = {}): LocalDraft {
  return {
    format: DRAFT_FORMAT,
    pipelineId: "p1",
    baseVersion: 3,
    savedAt: Date.UTC(2025, 0, 2, 10, 30),
    definition: definition(),
    ...overrides,
  };
}

describe("local drafts", () => {
  it("keys drafts per user and pipeline", () => {
    expect(draftKey("user-a", "p1")).not.toBe(draftKey("user-a", "p2"));
    expect(draftKey("user-a", "p1")).not.toBe(draftKey("user-b", "p1"));
  });

  it("reads back what was written", () => {
    const storage = new MemoryStorage();
    const key = draftKey("user-a", "p1");
    expect(writeDraft(storage, key, draft())).toBe(true);
    expect(readDraft(storage, key, "p1", parse)).toEqual(draft());
    expect(readDraft(storage, draftKey("user-b", "p1"), "p1", parse)).toBeNull();
    expect(readDraft(storage, draftKey("user-a", "p2"), "p2", parse)).toBeNull();
  });

  it("removes a draft", () => {
    const storage = new MemoryStorage();
    writeDraft(storage, "k", draft());
    removeDraft(storage, "k");
    expect(storage.items.size).toBe(0);
  });

  it("leaves a draft written after the given time: another tab's, with the same pipeline open", () => {
    const storage = new MemoryStorage();
    const at = draft().savedAt;
    writeDraft(storage, "k", draft());
    removeDraftUnlessNewer(storage, "k", at - 1);
    expect(readDraft(storage, "k", "p1", parse)).toEqual(draft());
    removeDraftUnlessNewer(storage, "k", at);
    expect(storage.items.size).toBe(0);
    storage.setItem("k", "{oops");
    removeDraftUnlessNewer(storage, "k", at);
    expect(storage.items.size).toBe(0);
    expect(() => removeDraftUnlessNewer(blocked, "k", at)).not.toThrow();
  });

  it.each([
    ["not JSON", "{oops"],
    ["not an object", "[1, 2]"],
    ["another format", JSON.stringify({ ...draft(), format: 2 })],
    ["another pipeline", JSON.stringify(draft({ pipelineId: "p2" }))],
    ["no base version", JSON.stringify({ ...draft(), baseVersion: undefined })],
    ["a base version that is not one", JSON.stringify(draft({ baseVersion: 1.5 }))],
    ["no time", JSON.stringify({ ...draft(), savedAt: "yesterday" })],
    ["no definition", JSON.stringify({ ...draft(), definition: undefined })],
    ["a broken definition", JSON.stringify({ ...draft(), definition: { apiVersion: "sluice/v1", spec: {} } })],
    [
      "a bad node id",
      JSON.stringify(
        draft({
          definition: {
            ...definition(),
            spec: { ...definition().spec, nodes: [{ id: "1 bad", type: "x", config: {} }] },
          },
        }),
      ),
    ],
  ])("ignores and removes a draft with %s", (_what, raw) => {
    const storage = new MemoryStorage();
    storage.setItem("k", raw);
    expect(readDraft(storage, "k", "p1", parse)).toBeNull();
    expect(storage.items.has("k")).toBe(false);
  });

  it("treats a parser that throws as a malformed draft", () => {
    const throwing = () => {
      throw new Error("boom");
    };
    expect(parseDraft(JSON.stringify(draft()), "p1", throwing)).toBeNull();
  });

  it("never throws when the storage is blocked or full", () => {
    expect(readDraft(blocked, "k", "p1", parse)).toBeNull();
    expect(writeDraft(blocked, "k", draft())).toBe(false);
    expect(() => removeDraft(blocked, "k")).not.toThrow();
  });

  it("applies a draft only to the version it was based on", () => {
    expect(draftStatus(draft({ baseVersion: 3 }), 3)).toBe("current");
    expect(draftStatus(draft({ baseVersion: 3 }), 4)).toBe("stale");
    expect(draftStatus(draft({ baseVersion: 5 }), 4)).toBe("stale");
  });

  it("compares definitions by content, not by key order", () => {
    const a = definition();
    const reordered = { spec: a.spec, metadata: a.metadata, kind: a.kind, apiVersion: a.apiVersion, ui: a.ui };
    expect(sameDefinition(a, reordered)).toBe(true);
    expect(sameDefinition(a, definition("status = 404"))).toBe(false);
  });

  it("says when a draft was written: the time today, the date before", () => {
    const now = new Date(2025, 0, 2, 18, 0).getTime();
    const today = draftTimeText(new Date(2025, 0, 2, 9, 5).getTime(), now);
    expect(today).toMatch(/9:05/);
    expect(today).not.toMatch(/2025/);
    expect(draftTimeText(new Date(2024, 11, 30, 9, 5).getTime(), now)).toMatch(/Dec 30, 2024/);
  });
});
