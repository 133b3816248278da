import { pathToFileURL } from "node:url";
import { addToDigest, EMPTY_DIGEST } from "@sluice/nodes/sinks/discard-digest";
import { type NexmarkConfig, nexmarkDef } from "@sluice/nodes/sources/nexmark.def";
import { nexmarkParams, nexmarkRuntime } from "@sluice/nodes/sources/nexmark.run";
import { NexmarkGenerator } from "@sluice/nodes/sources/nexmark-events";
import { testContext } from "@sluice/nodes/testing/operator-harness";
import type { DataRecord } from "@sluice/pipeline/record-schema";

// Nexmark generation speed on one core, without the engine: the generator alone (event i → record), the source
// reader as the engine drives it (batches of 1,000 with their ports), and, for scale, sink.discard's digest over the
// same events. Run: `npm run bench -- nexmark-gen [--events N] [--json]`.

const argValue = (name: string) => {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1] : undefined;
};
const EVENTS = Number(argValue("--events") ?? 2_000_000);
const WARMUP_PASSES = 2;
const TIMED_PASSES = 5;

/** Best of several timed passes, in events per second. */
async function measure(count: number, pass: () => number | Promise<number>): Promise<number> {
  let sink = 0;
  for (let i = 0; i < WARMUP_PASSES; i++) sink += await pass();
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < TIMED_PASSES; i++) {
    const start = process.hrtime.bigint();
    sink += await pass();
    best = Math.min(best, Number(process.hrtime.bigint() - start) / 1e9);
  }
  // Keeps the results observable so no pass can be optimised away.
  if (Number.isNaN(sink)) throw new Error("benchmark produced NaN");
  return Math.round(count / best);
}

export async function runNexmarkGenBench(events = EVENTS): Promise<Record<string, number>> {
  const config: NexmarkConfig = nexmarkDef.config.parse({ events, rate: 0, startTime: 0 });
  const generator = new NexmarkGenerator(nexmarkParams(config, 0));

  const generatorEventsPerSec = await measure(events, () => {
    let n = 0;
    for (let i = 0; i < events; i++) n += (generator.event(i).dateTime as number) & 1;
    return n;
  });

  const readerEventsPerSec = await measure(events, async () => {
    const reader = await nexmarkRuntime.open(testContext<NexmarkConfig>(nexmarkDef, config), null);
    const signal = new AbortController().signal;
    let n = 0;
    for (;;) {
      const batch = await reader.read(1000, signal);
      n += batch.records.length;
      if (batch.end) break;
    }
    return n;
  });

  const sample: DataRecord[] = Array.from({ length: Math.min(events, 500_000) }, (_, i) => generator.event(i));
  const digestRecordsPerSec = await measure(sample.length, () => addToDigest(EMPTY_DIGEST, sample).sum1);
  let bytes = 0;
  for (let i = 0; i < 100_000 && i < sample.length; i++) bytes += JSON.stringify(sample[i]).length;
  const avgJsonBytes = Math.round(bytes / Math.min(100_000, sample.length));

  return { events, generatorEventsPerSec, readerEventsPerSec, digestRecordsPerSec, avgJsonBytes };
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain) {
  const result = await runNexmarkGenBench();
  if (process.argv.includes("--json")) console.log(JSON.stringify(result));
  else
    for (const [name, value] of Object.entries(result))
      console.log(`${name.padEnd(24)} ${name.endsWith("PerSec") ? `${(value / 1e6).toFixed(2)}M/s` : value}`);
}
