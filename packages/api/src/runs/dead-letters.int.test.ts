import { emptyDefinition } from "@sluice/pipeline/definition";
import { type ApiHarness, createApiHarness, rejects } from "@sluice/test-kit/api-harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let h: ApiHarness;
beforeAll(async () => {
  h = await createApiHarness("dead-letters");
});
afterAll(async () => {
  await h?.close();
});

/** A run the fleet is running in three partitions, as the engine leaves its meta. */
async function runningRun() {
  const { cookie } = await h.signUp("Letters");
  const { api } = await h.caller(cookie);
  const def = emptyDefinition("letters");
  def.spec.nodes.push(
    { id: "gen", type: "source.generator", config: { rate: 10 } },
    { id: "out", type: "sink.console", config: {} },
  );
  def.spec.edges.push({ from: "gen", to: "out" });
  const { id } = await api.pipelines.create({ name: `p-${Math.random()}`, definition: def });
  const { id: runId } = await api.runs.start({ pipelineId: id });
  await h.redis.hset(h.deps.keys.runMeta(runId), {
    status: "running",
    desired: "running",
    gen: "1",
    stages: JSON.stringify([{ index: 0, partitions: 3 }]),
    startedAt: String(Date.now()),
  });
  await h.db.run.update({ where: { id: runId }, data: { status: "RUNNING" } });
  return { api, runId };
}

/** Dead letters appended as the engine's commit does (`XADD <dlq> * e <json>`), spread over the partitions. */
async function addLetters(runId: string, count: number) {
  const batch = h.redis.pipeline();
  for (let n = 0; n < count; n++) {
    const key = h.deps.keys.taskDeadLetters({ runId, stage: 0, partition: n % 3 });
    const letter = { nodeId: "out", port: "in", error: `bad ${n}`, record: { n }, at: Date.now(), sequence: 1 };
    batch.xadd(key, "*", "e", JSON.stringify(letter));
  }
  await batch.exec();
}

describe("dead letters", () => {
  it("counts them all and pages through every one, newest first, without a repeat", async () => {
    const { api, runId } = await runningRun();
    await addLetters(runId, 2787);
    const seen: string[] = [];
    const numbers: number[] = [];
    let after: string | undefined;
    let pages = 0;
    do {
      const page = await api.runs.deadLetters({ runId, limit: 500, after });
      expect(page.total).toBe(2787);
      expect(page.letters.length).toBe(page.next ? 500 : 2787 - 500 * pages);
      seen.push(...page.letters.map((l) => l.id));
      numbers.push(...page.letters.map((l) => (l.record as { n: number }).n));
      after = page.next ?? undefined;
      pages += 1;
    } while (after);
    expect(pages).toBe(6);
    expect(new Set(seen).size).toBe(2787);
    // Appended in order 0…2786 within each partition: newest first lists each partition's letters backwards.
    for (const p of [0, 1, 2]) {
      const mine = numbers.filter((n) => n % 3 === p);
      expect(mine).toEqual([...mine].sort((a, b) => b - a));
    }
    expect(numbers[numbers.length - 1]).toBeLessThan(3);
  });

  it("keeps later pages still when new letters arrive, and replays all of them, not a page", async () => {
    const { api, runId } = await runningRun();
    await addLetters(runId, 600);
    const first = await api.runs.deadLetters({ runId, limit: 500 });
    await addLetters(runId, 5);
    const second = await api.runs.deadLetters({ runId, limit: 500, after: first.next! });
    expect(second.total).toBe(605);
    expect(second.letters).toHaveLength(100);
    expect(second.next).toBeNull();
    expect(second.letters.some((l) => first.letters.some((f) => f.id === l.id))).toBe(false);
    expect(await api.runs.replayDeadLetters({ runId })).toEqual({ replayed: 605, runActive: true });
    expect(await api.runs.deadLetters({ runId })).toEqual({ total: 0, letters: [], next: null });
  });

  it("refuses a cursor that is not a dead letter id, naming the field", async () => {
    const { api, runId } = await runningRun();
    const err = await rejects(api.runs.deadLetters({ runId, after: "page-2" }));
    expect(err.code).toBe("BAD_REQUEST");
    expect(err.message).toContain("after");
    expect(err.message).toContain("a dead letter id as listed");
  });
});
