import { figureField } from "@sluice/pipeline/control/node-figures";
import { emptyDefinition } from "@sluice/pipeline/definition";
import { type ApiHarness, createApiHarness } from "@sluice/test-kit/api-harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { liveSecond } from "./node-figures";

// runs.figures after a dropped connection: the client names the last second it got (tRPC's lastEventId) and gets the
// seconds it missed from Redis first, then the live ones, with no second missing in between.

let h: ApiHarness;
beforeAll(async () => {
  h = await createApiHarness("figures-resume");
});
afterAll(async () => {
  await h?.close();
});

describe("runs.figures with lastEventId", () => {
  it("sends the seconds missed since then, oldest first, then goes on live", async () => {
    const def = emptyDefinition("figures-resume");
    def.spec.nodes.push(
      { id: "gen", type: "source.generator", config: { rate: 10 } },
      { id: "out", type: "sink.console", config: {} },
    );
    def.spec.edges.push({ from: "gen", to: "out" });
    const { cookie } = await h.signUp("Resumer");
    const { api } = await h.caller(cookie);
    const { id } = await api.pipelines.create({ name: "figures-resume", definition: def });
    const { id: runId } = await api.runs.start({ pipelineId: id });
    const keys = h.deps.keys;
    await h.redis.hset(keys.runMeta(runId), {
      status: "running",
      desired: "running",
      stages: JSON.stringify([{ index: 0, partitions: 1 }]),
    });
    await h.redis.hset(keys.taskState({ runId, stage: 0, partition: 0 }), { "n:gen:out": "5", "n:out:in": "5" });
    // Each second's figures say which second they are: records in = the second's last three digits.
    const now = Math.floor(Date.now() / 1000);
    for (let sec = now - 20; sec <= now + 5; sec++) {
      await h.redis.hset(keys.runFigures(runId, sec), { [figureField.count("out", "in")]: String(sec % 1000) });
      await h.redis.pexpire(keys.runFigures(runId, sec), 60_000);
    }
    // The client last got a second 10 s ago.
    const lastSeen = liveSecond() - 10;
    const seen: number[] = [];
    for await (const event of await api.runs.figures({ runId, lastEventId: String(lastSeen) })) {
      const [eventId, view] = event as unknown as [string, typeof event.data];
      expect(eventId).toBe(String(view.sec));
      expect(view.nodes.out?.inPerSec).toBe(view.sec % 1000);
      seen.push(view.sec);
      // Replayed seconds and at least one live one after them.
      if (seen.length === 12) await h.redis.hset(keys.runMeta(runId), "status", "completed");
      if (seen.length > 14) break;
    }
    expect(seen[0]).toBe(lastSeen + 1);
    // Every second from the one after lastEventId on, each once, in order.
    expect(seen).toEqual(seen.map((_, i) => lastSeen + 1 + i));
  });

  it("refuses an event id that is not one of this stream's", async () => {
    const { cookie } = await h.signUp("Forger");
    const { api } = await h.caller(cookie);
    const { id } = await api.pipelines.create({ name: "forged" });
    await expect(
      (async () => {
        for await (const _ of await api.runs.figures({ runId: id, lastEventId: "next; drop" })) break;
      })(),
    ).rejects.toThrow(/event/);
  });
});
