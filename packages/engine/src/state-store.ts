import type { JsonValue, StateStore } from "@sluice/nodes/runtime-contract";
import type { Keys, TaskRef } from "@sluice/pipeline/control/keys";
import type { Redis } from "ioredis";

// Operator state lives in memory while a task runs; what changed in a batch is written to Redis in that batch's
// commit (one hash per store), and a task that takes a partition over loads the hashes first. State is
// therefore always exactly what the last committed batch left, and a commit writes only what changed.

export class TrackedStateStore<V extends JsonValue = JsonValue> implements StateStore<V> {
  private readonly map = new Map<string, V>();
  private readonly changed = new Set<string>();

  constructor(readonly hashKey: string) {}

  get(key: string): V | undefined {
    return this.map.get(key);
  }
  set(key: string, value: V): void {
    this.map.set(key, value);
    this.changed.add(key);
  }
  delete(key: string): void {
    if (this.map.delete(key)) this.changed.add(key);
  }
  has(key: string): boolean {
    return this.map.has(key);
  }
  keys(): IterableIterator<string> {
    return this.map.keys();
  }
  entries(): IterableIterator<[string, V]> {
    return this.map.entries();
  }
  get size(): number {
    return this.map.size;
  }

  /** Fills the store from its committed hash, without marking anything as changed. */
  load(hash: Record<string, string>): void {
    for (const [k, v] of Object.entries(hash)) this.map.set(k, JSON.parse(v) as V);
  }

  /** What changed since the last commit: fields to write and fields to delete. */
  changes(): { set: [string, string][]; del: string[] } {
    const set: [string, string][] = [];
    const del: string[] = [];
    for (const k of this.changed) {
      const v = this.map.get(k);
      if (v === undefined) del.push(k);
      else set.push([k, JSON.stringify(v)]);
    }
    return { set, del };
  }

  get dirty(): boolean {
    return this.changed.size > 0;
  }

  committed(): void {
    this.changed.clear();
  }
}

/** Every state store of one task partition, by operator and name. */
export class TaskStores {
  private readonly stores = new Map<string, TrackedStateStore>();

  constructor(
    private readonly keys: Keys,
    private readonly task: TaskRef,
  ) {}

  /** Loads every store an earlier owner of the partition committed (run-state's registeredStores names them). */
  async load(redis: Redis, registered: readonly [string, string][]): Promise<void> {
    const hashes = await Promise.all(
      registered.map(([node, name]) => redis.hgetall(this.keys.taskStore(this.task, node, name))),
    );
    registered.forEach(([node, name], i) => {
      this.get(node, name).load(hashes[i]!);
    });
  }

  get(nodeId: string, name: string): TrackedStateStore {
    const id = `${nodeId}\u0000${name}`;
    let store = this.stores.get(id);
    if (!store) {
      store = new TrackedStateStore(this.keys.taskStore(this.task, nodeId, name));
      this.stores.set(id, store);
    }
    return store;
  }

  /** [nodeId, name] of every store, for the task state's `stores` field. */
  names(): [string, string][] {
    return [...this.stores.keys()].map((id) => id.split("\u0000") as [string, string]);
  }

  dirty(): TrackedStateStore[] {
    return [...this.stores.values()].filter((s) => s.dirty);
  }

  /** Entries held per operator, a gauge for the node figures. */
  keysByNode(): Map<string, number> {
    const out = new Map<string, number>();
    for (const [id, s] of this.stores) {
      const node = id.slice(0, id.indexOf("\u0000"));
      out.set(node, (out.get(node) ?? 0) + s.size);
    }
    return out;
  }

  /** Total entries held, a gauge for the run view. */
  get size(): number {
    let n = 0;
    for (const s of this.stores.values()) n += s.size;
    return n;
  }
}
