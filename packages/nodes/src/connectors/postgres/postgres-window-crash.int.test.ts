import type { ChildProcess } from "node:child_process";
import { createTestDatabase, type TestDatabase } from "@sluice/scripts/lib/test-db";
import { FleetHarness } from "@sluice/test-kit/fleet-harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { catalog } from "../../catalog";
import { runtimes } from "../../runtimes";
import { generatorDef } from "../../sources/generator.def";
import { recordFactory } from "../../sources/generator.run";
import {
  connectionBundle,
  type PgTarget,
  pipeline,
  sql,
  startCrashWorker,
  targetFromUrl,
} from "./testing/postgres-test-support";

// A keyed tumbling window feeding sink.postgres, on a fleet whose only worker is SIGKILLed right after the sink
// wrote (and PostgreSQL committed) a batch of window results that the engine never committed. A worker that joins
// afterwards takes the partitions over from the last commit — window state, shuffle positions, source offsets — and
// finishes the run: the table must hold every window's result once, with the count and sum an uninterrupted run
// gives, computed here from the generator's records.

const START = 1_700_000_000_000;
const COUNT = 40_000;
const WINDOW_MS = 1000;

const generatorConfig = {
  count: COUNT,
  rate: 0,
  seed: 23,
  startTime: START,
  fields: {
    id: { kind: "sequence" },
    country: { kind: "choice", values: ["DE", "FR", "US", "GB", "JP"] },
    amount: { kind: "int", min: 0, max: 100 },
  },
};

interface WindowRow {
  country: string;
  window_start: number;
  window_end: number;
  n: number;
  total: number;
}

/** Per country and second of event time: how many records and the sum of their amounts. */
function expectedWindows(): WindowRow[] {
  const make = recordFactory(generatorDef.config.parse(generatorConfig), START);
  const windows = new Map<string, WindowRow>();
  for (let i = 0; i < COUNT; i++) {
    const r = make(i);
    const start = Math.floor((r.ts as number) / WINDOW_MS) * WINDOW_MS;
    const key = `${r.country}/${start}`;
    let w = windows.get(key);
    if (!w) {
      w = { country: r.country as string, window_start: start, window_end: start + WINDOW_MS, n: 0, total: 0 };
      windows.set(key, w);
    }
    w.n++;
    w.total += r.amount as number;
  }
  return [...windows.values()].sort((a, b) => a.window_start - b.window_start || a.country.localeCompare(b.country));
}

let db: TestDatabase;
let target: PgTarget;

beforeAll(async () => {
  db = await createTestDatabase("pg-window-crash");
  target = targetFromUrl(db.url);
});

afterAll(async () => {
  await db?.drop();
});

describe("transform.window into sink.postgres when the worker dies", () => {
  it("writes each window's result once, with the right count and sum, after a SIGKILL between write and commit", async () => {
    // No key on the table: a window written twice would show as two rows.
    await sql(
      target,
      `CREATE TABLE window_totals (country text NOT NULL, window_start timestamptz NOT NULL,
                                   window_end timestamptz NOT NULL, window_time timestamptz, n bigint, total bigint)`,
    );
    const expected = expectedWindows();
    expect(expected.length).toBe(5 * (COUNT / WINDOW_MS));

    const fleet = new FleetHarness();
    let child: ChildProcess | undefined;
    try {
      const crashing = await startCrashWorker(fleet, { CRASH_AFTER_WRITES: "3" });
      child = crashing.child;
      const { output, exited } = crashing;

      const def = pipeline(
        [
          { id: "gen", type: "source.generator", config: generatorConfig },
          {
            id: "win",
            type: "transform.window",
            config: {
              key: ["country"],
              window: { tumble: "1s" },
              aggregates: { n: "count(*)", total: "sum(amount)" },
              timeField: "ts",
            },
          },
          { id: "out", type: "sink.postgres", config: { connection: "wh", table: "window_totals" } },
        ],
        [
          { from: "gen", to: "win" },
          { from: "win", to: "out" },
        ],
        { parallelism: 2, batchSize: 500 },
      );
      await fleet.startRun("window-crash", def, {}, connectionBundle({ wh: target }));
      expect(await exited).toBe("SIGKILL");
      expect(output.join("")).toMatch(/crashing after writing batch window-crash:1:[01]:\d+/);

      // Mid-run: some windows are in the table, not all — and more rows than the engine committed as written: the
      // batch the worker died after is in PostgreSQL, and its records will come out of the window again.
      const [before] = await sql<{ n: number }>(target, "SELECT count(*) AS n FROM window_totals");
      expect(before!.n).toBeLessThan(expected.length);
      const frozen = await fleet.snapshot("window-crash");
      expect(frozen?.status).toBe("running");
      expect(before!.n).toBeGreaterThan(frozen?.nodes.out?.in ?? 0);

      await fleet.startInProcess("survivor", catalog, runtimes);
      const done = await fleet.waitForStatus("window-crash", "completed", 60_000);
      expect(done.delivery).toBe("exactly-once");
      expect(done.nodes.gen?.out).toBe(COUNT);
      expect(done.nodes.win).toEqual({ in: COUNT, out: expected.length, errors: 0 });
      expect(done.nodes.out).toEqual({ in: expected.length, out: 0, errors: 0 });

      const rows = await sql<WindowRow>(
        target,
        `SELECT country, window_start, window_end, n, total FROM window_totals ORDER BY window_start, country`,
      );
      expect(rows.length).toBe(expected.length);
      expect(rows).toEqual(expected);
    } finally {
      if (child && child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await fleet.close();
    }
  });
});
