import { emptyDefinition, type PipelineDefinition } from "@sluice/pipeline/definition";
import { type ApiHarness, createApiHarness, rejects } from "@sluice/test-kit/api-harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { syncSchedules } from "./schedule-mirror";
import { scheduleQueueFor } from "./schedule-queue";

let h: ApiHarness;
beforeAll(async () => {
  h = await createApiHarness("schedules");
});
afterAll(async () => {
  await h?.close();
});

function slice(where = "status = 200"): PipelineDefinition {
  const def = emptyDefinition("slice");
  def.spec.nodes.push(
    { id: "gen", type: "source.generator", config: { rate: 10 } },
    { id: "keep", type: "transform.filter", config: { where } },
    { id: "out", type: "sink.console", config: {} },
  );
  def.spec.edges.push({ from: "gen", to: "keep" }, { from: "keep", to: "out" });
  return def;
}

async function pipelineWith(def: PipelineDefinition = slice()) {
  const { cookie } = await h.signUp("Scheduler");
  const { api } = await h.caller(cookie);
  const { id } = await api.pipelines.create({ name: `p-${Math.random()}`, definition: def });
  return { api, cookie, pipelineId: id };
}

const queue = () => scheduleQueueFor(h.deps);

/** Ids of the scheduler's jobs that wait for their slot. */
async function delayedFires(scheduleId: string): Promise<string[]> {
  const jobs = await queue().getDelayed();
  return jobs.map((j) => j.id ?? "").filter((id) => id.startsWith(`repeat:${scheduleId}:`));
}

function wallClock(date: Date, timeZone: string): string {
  return new Intl.DateTimeFormat("en-GB", { timeZone, hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).format(
    date,
  );
}

describe("schedules", () => {
  it("creates a schedule, mirrors it to a BullMQ job scheduler with its pattern and zone, and lists it", async () => {
    const { api, pipelineId } = await pipelineWith();
    const { schedule, warnings } = await api.schedules.create({
      pipelineId,
      pattern: "0 3 * * *",
      timeZone: "europe/berlin",
    });
    expect(warnings).toEqual([]);
    expect(schedule).toMatchObject({
      pipelineId,
      pattern: "0 3 * * *",
      timeZone: "Europe/Berlin",
      version: null,
      parameters: {},
      overlap: "SKIP",
      enabled: true,
      lastOutcome: null,
    });
    expect(schedule.nextFireAt!.getTime()).toBeGreaterThan(Date.now());
    expect(wallClock(schedule.nextFireAt!, "Europe/Berlin")).toBe("03:00");

    const scheduler = await queue().getJobScheduler(schedule.id);
    expect(scheduler).toMatchObject({ pattern: "0 3 * * *", tz: "Europe/Berlin", name: "fire" });
    expect(scheduler?.template?.data).toEqual({ v: 1, scheduleId: schedule.id });
    expect(scheduler?.next).toBe(schedule.nextFireAt!.getTime());
    expect(await delayedFires(schedule.id)).toEqual([`repeat:${schedule.id}:${scheduler?.next}`]);

    expect((await api.schedules.list({ pipelineId })).map((s) => s.id)).toEqual([schedule.id]);
    expect((await api.schedules.list()).map((s) => s.id)).toContain(schedule.id);
    expect(await api.schedules.get({ id: schedule.id })).toMatchObject({ id: schedule.id, createdBy: "Scheduler" });
  });

  it("rejects bad patterns, zones and versions with errors naming the field, and stores nothing", async () => {
    const { api, pipelineId } = await pipelineWith();
    const cases: [Record<string, unknown>, string][] = [
      [{ pattern: "61 * * * *" }, "pattern: "],
      [{ pattern: "every day at noon" }, "pattern: "],
      [{ pattern: "0 0 30 2 *" }, "pattern: "],
      [{ pattern: "  " }, "pattern: "],
      [{ pattern: "0 3 * * *", timeZone: "Mars/Olympus" }, "timeZone: "],
      [{ pattern: "0 3 * * *", version: 9 }, "version: "],
      [{ pattern: "0 3 * * *", overlap: "ALLOW" }, "overlap: "],
    ];
    for (const [fields, prefix] of cases) {
      const err = await rejects(api.schedules.create({ pipelineId, ...fields } as never));
      expect(err.code, JSON.stringify(fields)).toBe("BAD_REQUEST");
      expect(err.message.startsWith(prefix), `${JSON.stringify(fields)} → ${err.message}`).toBe(true);
    }
    expect((await rejects(api.schedules.create({ pipelineId, pattern: "61 * * * *" }))).message).toContain(
      "expected range 0-59",
    );
    expect((await rejects(api.schedules.create({ pipelineId, pattern: "0 3 * * *", version: 9 }))).message).toContain(
      "no version 9 (its latest is 1)",
    );
    expect(await h.db.schedule.count({ where: { pipelineId } })).toBe(0);

    const { schedule } = await api.schedules.create({ pipelineId, pattern: "*/5 * * * *" });
    const err = await rejects(api.schedules.update({ id: schedule.id, timeZone: "Nowhere/Special" }));
    expect(err.message).toMatch(/^timeZone: unknown time zone "Nowhere\/Special"/);
    expect(await api.schedules.get({ id: schedule.id })).toMatchObject({ pattern: "*/5 * * * *", timeZone: "UTC" });
  });

  it("keeps every workspace's schedules to itself, and lets viewers look but not change", async () => {
    const mine = await pipelineWith();
    const { schedule } = await mine.api.schedules.create({ pipelineId: mine.pipelineId, pattern: "0 * * * *" });
    const other = await pipelineWith();

    expect(
      (await rejects(other.api.schedules.create({ pipelineId: mine.pipelineId, pattern: "0 * * * *" }))).code,
    ).toBe("NOT_FOUND");
    expect(await other.api.schedules.list()).toEqual([]);
    expect(await other.api.schedules.list({ pipelineId: mine.pipelineId })).toEqual([]);
    for (const call of [
      () => other.api.schedules.get({ id: schedule.id }),
      () => other.api.schedules.update({ id: schedule.id, enabled: false }),
      () => other.api.schedules.delete({ id: schedule.id }),
      () => other.api.schedules.fireNow({ id: schedule.id }),
    ]) {
      expect((await rejects(call())).code).toBe("NOT_FOUND");
    }
    expect(await mine.api.schedules.get({ id: schedule.id })).toMatchObject({ enabled: true });

    const me = await mine.api.auth.me();
    await h.db.membership.updateMany({ where: { userId: me!.user.id }, data: { role: "VIEWER" } });
    const { api: viewer } = await h.caller(mine.cookie);
    expect((await viewer.schedules.list()).map((s) => s.id)).toEqual([schedule.id]);
    expect((await rejects(viewer.schedules.update({ id: schedule.id, enabled: false }))).code).toBe("FORBIDDEN");
    expect((await rejects(viewer.schedules.fireNow({ id: schedule.id }))).code).toBe("FORBIDDEN");
    expect((await rejects(viewer.schedules.delete({ id: schedule.id }))).code).toBe("FORBIDDEN");
    expect((await rejects(viewer.schedules.create({ pipelineId: mine.pipelineId, pattern: "0 * * * *" }))).code).toBe(
      "FORBIDDEN",
    );
  });

  it("saves a schedule whose pipeline would not start now, with warnings that say why", async () => {
    const def = slice("statsu = 200");
    def.spec.parameters.push({ name: "limit", type: "number", default: 5 });
    const { api, pipelineId } = await pipelineWith(def);
    const created = await api.schedules.create({ pipelineId, pattern: "0 3 * * *" });
    expect(created.warnings).toHaveLength(1);
    expect(created.warnings[0]).toContain("the latest version (1) would not start now");
    expect(created.warnings[0]).toContain("node keep");

    const fixed = await api.pipelines.saveVersion({ id: pipelineId, baseVersion: 1, definition: slice() });
    const updated = await api.schedules.update({ id: created.schedule.id, parameters: { nope: 1 } });
    expect(updated.warnings).toEqual([
      `the latest version (${fixed.number}) would not start now: parameter "nope": the pipeline declares no such parameter`,
    ]);
    const pinned = await api.schedules.update({ id: created.schedule.id, version: 1, parameters: { limit: 3 } });
    expect(pinned.warnings.join("\n")).toContain("version 1 would not start now");
    expect(pinned.schedule).toMatchObject({ version: 1, parameters: { limit: 3 } });
  });

  it("re-arms on a new pattern, removes the scheduler when disabled or deleted, and restores it when enabled", async () => {
    const { api, pipelineId } = await pipelineWith();
    const { schedule } = await api.schedules.create({ pipelineId, pattern: "0 3 * * *" });

    const moved = await api.schedules.update({ id: schedule.id, pattern: "30 4 * * 1", timeZone: "America/New_York" });
    expect(moved.warnings).toEqual([]);
    expect(wallClock(moved.schedule.nextFireAt!, "America/New_York")).toBe("04:30");
    const scheduler = await queue().getJobScheduler(schedule.id);
    expect(scheduler).toMatchObject({ pattern: "30 4 * * 1", tz: "America/New_York" });
    expect(await delayedFires(schedule.id)).toEqual([`repeat:${schedule.id}:${scheduler?.next}`]);

    const off = await api.schedules.update({ id: schedule.id, enabled: false });
    expect(off.schedule).toMatchObject({ enabled: false, nextFireAt: null });
    expect(await queue().getJobScheduler(schedule.id)).toBeUndefined();
    expect(await delayedFires(schedule.id)).toEqual([]);

    await api.schedules.update({ id: schedule.id, enabled: true });
    expect(await queue().getJobScheduler(schedule.id)).toMatchObject({ pattern: "30 4 * * 1", tz: "America/New_York" });
    expect(await delayedFires(schedule.id)).toHaveLength(1);

    expect(await api.schedules.delete({ id: schedule.id })).toEqual({ ok: true });
    expect(await queue().getJobScheduler(schedule.id)).toBeUndefined();
    expect(await delayedFires(schedule.id)).toEqual([]);
    expect((await rejects(api.schedules.get({ id: schedule.id }))).code).toBe("NOT_FOUND");
  });

  it("deletes a pipeline's schedules with it", async () => {
    const { api, pipelineId } = await pipelineWith();
    const { schedule } = await api.schedules.create({ pipelineId, pattern: "0 3 * * *" });
    await api.pipelines.delete({ id: pipelineId });
    expect(await h.db.schedule.count({ where: { id: schedule.id } })).toBe(0);
    // Its scheduler is left to the next sync (or its own next fire), which removes it.
    expect(await syncSchedules({ db: h.db, scheduleQueue: queue() })).toMatchObject({ removed: 1 });
    expect(await queue().getJobScheduler(schedule.id)).toBeUndefined();
  });

  it("syncSchedules restores schedulers Redis lost and removes stale ones, also when several processes run it", async () => {
    const { api, pipelineId } = await pipelineWith();
    const a = (await api.schedules.create({ pipelineId, pattern: "0 3 * * *", timeZone: "Asia/Tokyo" })).schedule;
    const b = (await api.schedules.create({ pipelineId, pattern: "0 4 * * *" })).schedule;
    const off = (await api.schedules.create({ pipelineId, pattern: "0 5 * * *", enabled: false })).schedule;
    const deps = { db: h.db, scheduleQueue: queue() };
    expect(await syncSchedules(deps)).toEqual({ armed: 0, removed: 0 });

    // Redis flushed: every key of the queue is gone.
    const lost = await h.redis.keys(`${h.deps.keys.bullPrefix}:run.schedule:*`);
    expect(lost.length).toBeGreaterThan(0);
    await h.redis.del(...lost);
    expect(await queue().getJobScheduler(a.id)).toBeUndefined();

    const results = await Promise.all([syncSchedules(deps), syncSchedules(deps), syncSchedules(deps)]);
    expect(results.reduce((n, r) => n + r.armed, 0)).toBeGreaterThanOrEqual(2);
    expect(await queue().getJobScheduler(a.id)).toMatchObject({ pattern: "0 3 * * *", tz: "Asia/Tokyo" });
    expect(await queue().getJobScheduler(b.id)).toMatchObject({ pattern: "0 4 * * *", tz: "UTC" });
    expect(await queue().getJobScheduler(off.id)).toBeUndefined();
    expect(await delayedFires(a.id)).toHaveLength(1);
    expect(await delayedFires(b.id)).toHaveLength(1);

    // Rows changed behind the mirror's back, and a scheduler no schedule owns.
    await h.db.schedule.update({ where: { id: b.id }, data: { enabled: false } });
    await h.db.schedule.update({ where: { id: a.id }, data: { pattern: "15 3 * * *" } });
    await queue().upsertJobScheduler(
      "ghost",
      { pattern: "0 0 * * *" },
      { name: "fire", data: { v: 1, scheduleId: "ghost" } },
    );
    expect(await syncSchedules(deps)).toEqual({ armed: 1, removed: 2 });
    expect(await queue().getJobScheduler(a.id)).toMatchObject({ pattern: "15 3 * * *", tz: "Asia/Tokyo" });
    expect(await queue().getJobScheduler(b.id)).toBeUndefined();
    expect(await queue().getJobScheduler("ghost")).toBeUndefined();
    expect(await delayedFires(a.id)).toHaveLength(1);
    expect(await syncSchedules(deps)).toEqual({ armed: 0, removed: 0 });
  });
});
