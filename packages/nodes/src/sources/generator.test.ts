import { describe, expect, it } from "vitest";
import { bundleResolver, type RuntimeContext } from "../runtime-contract";
import { localDestinations } from "../testing/local-destinations";
import { MemoryStateStore } from "../testing/operator-harness";
import { generatorDef, generatorRecordBytes, MAX_GENERATOR_RECORD_BYTES } from "./generator.def";
import { generatorRuntime, partitionShare, recordFactory } from "./generator.run";

const parse = (c: unknown) => generatorDef.config.parse(c);

function ctx(config: unknown, partition: number, partitions: number): RuntimeContext<ReturnType<typeof parse>> {
  return {
    nodeId: "gen",
    config: parse(config),
    runId: "r",
    runStartedAt: 1_700_000_000_000,
    partition,
    partitions,
    parameters: {},
    settings: { parallelism: partitions, delivery: "exactly-once", batchSize: 1000 },
    inputs: {},
    outputs: {},
    log: { info() {}, warn() {}, error() {} },
    services: { tail: { async append() {} }, connections: bundleResolver({}), destinations: localDestinations },
    state: () => new MemoryStateStore(),
  };
}

async function drain(config: unknown, partitions: number, batch = 333) {
  const out: Record<string, unknown>[] = [];
  for (let p = 0; p < partitions; p++) {
    const reader = await generatorRuntime.open(ctx(config, p, partitions), null);
    for (;;) {
      const b = await reader.read(batch, new AbortController().signal);
      out.push(...b.records);
      if (b.end) break;
    }
  }
  return out.sort((a, b) => (a.id as number) - (b.id as number));
}

describe("source.generator", () => {
  it("splits a count over partitions without gaps or overlaps", () => {
    for (const [count, partitions] of [
      [10, 3],
      [7, 8],
      [1000, 4],
      [1, 1],
      [5, 5],
    ] as const) {
      let sum = 0;
      for (let p = 0; p < partitions; p++) sum += partitionShare(count, p, partitions);
      expect(sum).toBe(count);
    }
  });

  it("emits the same records whatever the number of partitions", async () => {
    const config = { count: 500, rate: 0, seed: 7 };
    const one = await drain(config, 1);
    const five = await drain(config, 5, 17);
    expect(one).toHaveLength(500);
    expect(five).toEqual(one);
    expect(one.map((r) => r.id)).toEqual(Array.from({ length: 500 }, (_, i) => i));
  });

  it("depends on the seed", () => {
    const a = recordFactory(parse({ seed: 1 }), 0);
    const b = recordFactory(parse({ seed: 2 }), 0);
    const rowsA = Array.from({ length: 50 }, (_, i) => a(i));
    const rowsB = Array.from({ length: 50 }, (_, i) => b(i));
    expect(rowsA).not.toEqual(rowsB);
    expect(rowsA).toEqual(Array.from({ length: 50 }, (_, i) => recordFactory(parse({ seed: 1 }), 0)(i)));
  });

  it("resumes after a committed offset with exactly the records that follow", async () => {
    const config = { count: 100, rate: 0 };
    const whole = await generatorRuntime.open(ctx(config, 1, 2), null);
    const all = (await whole.read(1000, new AbortController().signal)).records;
    const resumed = await generatorRuntime.open(ctx(config, 1, 2), 20);
    const rest = (await resumed.read(1000, new AbortController().signal)).records;
    expect(rest).toEqual(all.slice(20));
  });

  it("keeps values inside their declared ranges and honours the null share", () => {
    const make = recordFactory(
      parse({
        fields: {
          n: { kind: "int", min: -5, max: 5 },
          f: { kind: "float", min: 1, max: 2, decimals: 1 },
          c: { kind: "choice", values: ["a", "b"] },
          s: { kind: "string", length: 12 },
          u: { kind: "uuid" },
          maybe: { kind: "int", nullRate: 0.5 },
        },
        maxOutOfOrder: "1s",
      }),
      1_000_000,
    );
    let nulls = 0;
    for (let i = 0; i < 2000; i++) {
      const r = make(i);
      expect(r.n).toBeGreaterThanOrEqual(-5);
      expect(r.n).toBeLessThanOrEqual(5);
      expect(r.f as number).toBeGreaterThanOrEqual(1);
      expect(r.f as number).toBeLessThanOrEqual(2);
      expect(["a", "b"]).toContain(r.c);
      expect(r.s).toMatch(/^[A-Za-z0-9]{12}$/);
      expect(r.u).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      const ts = r.ts as number;
      expect(ts).toBeLessThanOrEqual(1_000_000 + i * 10);
      expect(ts).toBeGreaterThanOrEqual(1_000_000 + i * 10 - 1000);
      if (r.maybe === null) nulls++;
    }
    expect(nulls).toBeGreaterThan(800);
    expect(nulls).toBeLessThan(1200);
  });

  it("paces itself to the configured rate", async () => {
    const reader = await generatorRuntime.open(ctx({ rate: 100 }, 0, 1), null);
    const first = await reader.read(1000, new AbortController().signal);
    expect(first.records.length).toBeLessThanOrEqual(2);
    const second = await reader.read(1000, new AbortController().signal);
    expect(second.records).toHaveLength(0);
    expect(second.idleMs).toBeGreaterThan(0);
  });

  it("rejects contradictory configs with the field that is wrong", () => {
    const r = generatorDef.config.safeParse({ fields: { a: { kind: "int", min: 5, max: 1 } } });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.path).toEqual(["fields", "a", "max"]);
    const clash = generatorDef.config.safeParse({ fields: { ts: { kind: "sequence" } } });
    expect(clash.error?.issues[0]?.path).toEqual(["timeField"]);
  });

  it("refuses configs whose records would be too large, naming the fields", () => {
    const text = (n: number) =>
      Object.fromEntries(Array.from({ length: n }, (_, i) => [`t${i}`, { kind: "string", length: 4096 }]));
    // The one that ran a worker out of memory: 200 text fields of 4,096 characters.
    const bomb = generatorDef.config.safeParse({ rate: 0, fields: text(200) });
    expect(bomb.success).toBe(false);
    expect(bomb.error?.issues[0]?.path).toEqual(["fields"]);
    expect(bomb.error?.issues[0]?.message).toBe(
      "these fields make records of about 802 KiB each, over the 256 KiB a generated record may have: use fewer fields or shorter text",
    );
    const many = generatorDef.config.safeParse({
      fields: Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`b${i}`, { kind: "boolean" }])),
    });
    expect(many.error?.issues.map((i) => i.message)).toContain(
      "a generator makes at most 256 fields (this one has 300)",
    );
    const under = parse({ fields: text(60) });
    expect(generatorRecordBytes(under)).toBeLessThanOrEqual(MAX_GENERATOR_RECORD_BYTES);
    expect(generatorRecordBytes(under)).toBeGreaterThan(60 * 4096);
  });

  it("makes long text as flat strings of the same characters, and tells its record size", async () => {
    const config = { count: 3, rate: 0, fields: { s: { kind: "string", length: 4096 } } };
    const [a] = await drain(config, 1);
    expect(a!.s).toMatch(/^[A-Za-z0-9]{4096}$/);
    // The estimate bounds the record as JSON.
    const reader = await generatorRuntime.open(ctx(config, 0, 1), null);
    expect(reader.recordBytes).toBeGreaterThanOrEqual(JSON.stringify(a).length);
  });

  it("declares the schema of what it emits", () => {
    const out = generatorDef.infer({
      config: parse({}),
      inputs: {},
      settings: { parallelism: 1, delivery: "exactly-once", batchSize: 1 },
      parameters: {},
    }).outputs.out!;
    expect(out.fields.map((f) => [f.name, f.type.kind])).toEqual([
      ["id", "int"],
      ["user_id", "int"],
      ["country", "string"],
      ["status", "int"],
      ["amount", "float"],
      ["ts", "timestamp"],
    ]);
  });
});

describe("source.generator start time", () => {
  it("pins event times to startTime, as epoch ms or ISO text", async () => {
    for (const startTime of [1_000_000, "1970-01-01T00:16:40Z"]) {
      const reader = await generatorRuntime.open(ctx({ count: 3, rate: 10, startTime }, 0, 1), null);
      const { records } = await reader.read(10, new AbortController().signal);
      expect(records[0]?.ts).toBe(1_000_000);
    }
    expect(generatorDef.config.safeParse({ startTime: "yesterday" }).success).toBe(false);
  });
});
