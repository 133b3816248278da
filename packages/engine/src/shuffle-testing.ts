import type { Keys } from "@sluice/pipeline/control/keys";
import type { Shuffle } from "@sluice/pipeline/plan";
import type { Redis } from "ioredis";
import { encodeEntry } from "./shuffle-codec";

// For tests of the shuffle's consumer side: one keyed shuffle from stage 0 to stage 1, and producers' entries
// appended to its streams as a producer's commit would.

export const TEST_SHUFFLE: Shuffle = {
  id: 0,
  fromStage: 0,
  fromNode: "src",
  fromPort: "out",
  toStage: 1,
  toNode: "win",
  toPort: "in",
  keys: ["k"],
} as Shuffle;

/** Appends `n` one-record entries (record `{ i }`, watermark i) from `producer` to consumer 0; returns their ids. */
export async function appendShuffleEntries(
  redis: Redis,
  keys: Keys,
  runId: string,
  producer: number,
  n: number,
): Promise<string[]> {
  const key = keys.shuffleStream({ runId, stage: 0, partition: producer }, TEST_SHUFFLE.id, 0);
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const payload = encodeEntry({ watermark: i, idle: false, end: false, stopGeneration: 0, records: [{ i }] });
    ids.push((await redis.xadd(key, "*", "d", payload)) as string);
  }
  return ids;
}
