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

/** Appends letters as the engine's commit does, with the node and error given; returns their records' numbers. */
async function addFailures(runId: string, nodeId: string, errorOf: (n: number) => string, from: number, count: number) {
  const batch = h.redis.pipeline();
  for (let n = from; n < from + count; n++) {
    const key = h.deps.keys.taskDeadLetters({ runId, stage: 0, partition: n % 3 });
    const record = { n, price: `${n},5` };
    const letter = { nodeId, port: "in", error: errorOf(n), record, at: Date.now(), sequence: 1 };
    batch.xadd(key, "*", "e", JSON.stringify(letter));
  }
  await batch.exec();
}

/** Every entry of the run's replay streams, as the engine would read them. */
async function replayed(runId: string): Promise<{ nodeId: string; record: { n: number; price: unknown } }[]> {
  const out = [];
  for (const partition of [0, 1, 2]) {
    for (const [, fields] of await h.redis.xrange(h.deps.keys.taskReplay({ runId, stage: 0, partition }), "-", "+")) {
      out.push(JSON.parse(fields[1]!));
    }
  }
  return out;
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
    expect(await api.runs.replayDeadLetters({ runId })).toEqual({ replayed: 605 });
    expect(await api.runs.deadLetters({ runId })).toEqual({
      total: 0,
      discarded: 0,
      replayRefusal: null,
      letters: [],
      next: null,
    });
  });

  it("refuses a cursor that is not a dead letter id, naming the field", async () => {
    const { api, runId } = await runningRun();
    const err = await rejects(api.runs.deadLetters({ runId, after: "page-2" }));
    expect(err.code).toBe("BAD_REQUEST");
    expect(err.message).toContain("after");
    expect(err.message).toContain("a dead letter id as listed");
  });
});

const castError = (n: number) => `Cannot cast '${n},5' to FLOAT (at 1:1 in \`CAST(price AS double)\`)`;

describe("dead-letter workbench", () => {
  it("groups all of a run's letters by node and reason, and a group filters the pages", async () => {
    const { api, runId } = await runningRun();
    await addFailures(runId, "fix", castError, 0, 2500);
    await addFailures(runId, "fix", (n) => `division by zero in row ${n}`, 2500, 40);
    await addFailures(runId, "out", (n) => `sink refused id ${n}`, 2540, 7);
    const { total, groups } = await api.runs.deadLetterGroups({ runId });
    expect(total).toBe(2547);
    expect(groups.map((g) => [g.nodeId, g.reason, g.count])).toEqual([
      ["fix", "Cannot cast '…' to FLOAT (at #:# in `CAST(price AS double)`)", 2500],
      ["fix", "division by zero in row #", 40],
      ["out", "sink refused id #", 7],
    ]);
    const group = { nodeId: "fix", reason: groups[1]!.reason };
    const first = await api.runs.deadLetters({ runId, limit: 25, group });
    expect(first.letters).toHaveLength(25);
    const second = await api.runs.deadLetters({ runId, limit: 25, group, after: first.next! });
    expect(second.letters).toHaveLength(15);
    expect(second.next).toBeNull();
    const numbers = [...first.letters, ...second.letters].map((l) => (l.record as { n: number }).n);
    expect(new Set(numbers).size).toBe(40);
    expect(numbers.every((n) => n >= 2500 && n < 2540)).toBe(true);
  });

  it("previews and applies a fix expression to a group, replays it, and names a bad expression's position", async () => {
    const { api, runId } = await runningRun();
    await addFailures(runId, "fix", castError, 0, 30);
    await addFailures(runId, "out", (n) => `sink refused id ${n}`, 30, 3);
    const [group] = (await api.runs.deadLetterGroups({ runId })).groups;
    const target = { runId, group: { nodeId: group!.nodeId, reason: group!.reason } };
    const bad = await rejects(api.runs.previewDeadLetterFix({ ...target, expression: "price = toNumber(price)" }));
    expect(bad.code).toBe("BAD_REQUEST");
    expect(bad.message).toContain("line 1, column 9");
    expect(bad.message).toContain("toNumber");
    const notAssignment = await rejects(api.runs.fixDeadLetters({ ...target, expression: "CAST(price AS double)" }));
    expect(notAssignment.message).toContain("expected an assignment");

    const expression = "price = CAST(replace(price, ',', '.') AS double)\nfixed = true";
    const preview = await api.runs.previewDeadLetterFix({ ...target, expression });
    expect(preview.rows).toHaveLength(5);
    for (const row of preview.rows) {
      const before = row.before as { n: number };
      expect(row.after).toEqual({ n: before.n, price: before.n + 0.5, fixed: true });
    }
    // The preview changed nothing.
    expect((await api.runs.deadLetters({ runId })).total).toBe(33);

    const outcome = await api.runs.fixDeadLetters({ ...target, expression, replay: true });
    expect(outcome).toEqual({ fixed: 30, failed: 0, firstError: null, remaining: 0, replayed: true });
    const sent = await replayed(runId);
    expect(sent).toHaveLength(30);
    expect(sent.every((l) => l.nodeId === "fix" && l.record.price === l.record.n + 0.5)).toBe(true);
    const left = await api.runs.deadLetterGroups({ runId });
    expect(left.total).toBe(3);
    expect(left.groups.map((g) => g.nodeId)).toEqual(["out"]);
  });

  it("fixes one record by hand, refusing JSON that is not a record with a sentence that says why", async () => {
    const { api, runId } = await runningRun();
    await addFailures(runId, "fix", castError, 0, 2);
    const [letter] = (await api.runs.deadLetters({ runId })).letters;
    const broken = await rejects(api.runs.fixDeadLetter({ runId, id: letter!.id, record: '{"n": 1,' }));
    expect(broken.code).toBe("BAD_REQUEST");
    expect(broken.message).toMatch(/^record: not valid JSON/);
    const array = await rejects(api.runs.fixDeadLetter({ runId, id: letter!.id, record: "[1, 2]" }));
    expect(array.message).toBe("record: a record is a JSON object ({ … }), not an array.");
    // Kept as a dead letter, marked fixed, then replayed.
    await api.runs.fixDeadLetter({ runId, id: letter!.id, record: '{"n": 1, "price": 1.5}' });
    const page = await api.runs.deadLetters({ runId });
    const kept = page.letters.find((l) => l.fixed);
    expect(kept?.record).toEqual({ n: 1, price: 1.5 });
    expect(kept?.fixed?.how).toBe("by hand");
    expect(kept?.nodeId).toBe("fix");
    await api.runs.replayDeadLetters({ runId, ids: [kept!.id] });
    expect((await replayed(runId)).map((l) => l.record)).toEqual([{ n: 1, price: 1.5 }]);
    const gone = await rejects(api.runs.fixDeadLetter({ runId, id: letter!.id, record: "{}" }));
    expect(gone.code).toBe("CONFLICT");
  });

  it("replays each letter exactly once when two people replay the same letters at the same time", async () => {
    const { api, runId } = await runningRun();
    await addFailures(runId, "fix", castError, 0, 3000);
    const { groups } = await api.runs.deadLetterGroups({ runId });
    const group = { nodeId: "fix", reason: groups[0]!.reason };
    const ids = (await api.runs.deadLetters({ runId, limit: 1000 })).letters.map((l) => l.id);
    const results = await Promise.all([
      api.runs.replayDeadLetters({ runId, group }),
      api.runs.replayDeadLetters({ runId, group }),
      api.runs.replayDeadLetters({ runId, ids }),
      api.runs.replayDeadLetters({ runId }),
    ]);
    expect(results.reduce((sum, r) => sum + r.replayed, 0)).toBe(3000);
    const sent = await replayed(runId);
    expect(sent).toHaveLength(3000);
    expect(new Set(sent.map((l) => l.record.n)).size).toBe(3000);
    expect((await api.runs.deadLetters({ runId })).total).toBe(0);
  });

  it("discards with a required reason, counts the discarded and puts every action on the timeline", async () => {
    const { api, runId } = await runningRun();
    await addFailures(runId, "fix", castError, 0, 12);
    await addFailures(runId, "out", (n) => `sink refused id ${n}`, 12, 5);
    const noReason = await rejects(api.runs.discardDeadLetters({ runId, reason: " " }));
    expect(noReason.code).toBe("BAD_REQUEST");
    expect(noReason.message).toContain("say why");
    const both = await rejects(
      api.runs.discardDeadLetters({ runId, reason: "junk", ids: ["0.0.1-0"], group: { nodeId: "x", reason: "y" } }),
    );
    expect(both.message).toContain("not both");
    const group = { nodeId: "out", reason: "sink refused id #" };
    expect(await api.runs.discardDeadLetters({ runId, group, reason: "test rows from staging" })).toEqual({
      discarded: 5,
    });
    // A second discard of the same group finds nothing left to discard.
    expect(await api.runs.discardDeadLetters({ runId, group, reason: "again" })).toEqual({ discarded: 0 });
    await api.runs.fixDeadLetters({ runId, expression: "price = 1.0", replay: false });
    await api.runs.replayDeadLetters({ runId });
    const page = await api.runs.deadLetters({ runId });
    expect(page).toMatchObject({ total: 0, discarded: 5 });

    const timeline = await api.runs.timeline({ runId });
    const actions = timeline.filter((e) => e.kind.startsWith("dead-letters-"));
    expect(actions.map((e) => [e.kind, e.count, e.by])).toEqual([
      ["dead-letters-discarded", 5, "Letters"],
      ["dead-letters-fixed", 12, "Letters"],
      ["dead-letters-replayed", 12, "Letters"],
    ]);
    expect(actions[0]).toMatchObject({ reason: "test rows from staging", scope: "node out: sink refused id #" });
    expect(actions[1]).toMatchObject({ fix: "price = 1.0", scope: "all", replayed: false });
    // Kept in PostgreSQL at once, not only when the run ends.
    const stored = await h.db.runEvent.findMany({ where: { runId, kind: { startsWith: "dead-letters-" } } });
    expect(stored).toHaveLength(3);
  });

  it("refuses to replay into a run that has ended, saying why, and still lets its letters be discarded", async () => {
    const { api, runId } = await runningRun();
    await addFailures(runId, "fix", castError, 0, 4);
    await h.db.run.update({ where: { id: runId }, data: { status: "COMPLETED" } });
    await h.redis.hset(h.deps.keys.runMeta(runId), { status: "completed" });
    const err = await rejects(api.runs.replayDeadLetters({ runId }));
    expect(err.code).toBe("PRECONDITION_FAILED");
    expect(err.message).toContain("Restart it from its last commit");
    expect((await api.runs.deadLetters({ runId })).replayRefusal).toContain("is completed");
    expect(await api.runs.discardDeadLetters({ runId, reason: "bad source data" })).toEqual({ discarded: 4 });
    expect((await api.runs.deadLetters({ runId })).discarded).toBe(4);
  });
});
