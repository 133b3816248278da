import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

// Part of `npm run bench -- metrics` (issue 14): what the per-second node figures cost the engine. Runs the engine
// benchmark's q1 (bench/engine.ts) as a process of its own per round, alternately with SLUICE_NODE_FIGURES=on and
// off (the switch bench/engine-worker.ts and the worker's env read), and compares the medians of events/s. Rounds
// alternate, starting with a different mode each pair, so a drift in what else the shared machine does falls on
// both modes alike.

export interface OverheadRound {
  figures: "on" | "off";
  eventsPerSec: number;
  seconds: number;
  outputHash: string;
}

export interface OverheadResult {
  /** How much slower q1 is with figures on than off, from the medians of events/s (negative: faster). */
  overheadPct: number;
  medianOnEventsPerSec: number;
  medianOffEventsPerSec: number;
  command: string;
  rounds: OverheadRound[];
}

const engineBench = fileURLToPath(new URL("./engine.ts", import.meta.url));

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function round(figures: "on" | "off", args: readonly string[]): OverheadRound {
  const r = spawnSync(process.execPath, ["--import", "tsx", engineBench, ...args], {
    env: { ...process.env, SLUICE_NODE_FIGURES: figures },
    encoding: "utf8",
    maxBuffer: 16 * 2 ** 20,
  });
  if (r.status !== 0)
    throw new Error(`engine q1 with figures ${figures} failed (${r.status}): ${r.stderr.slice(-2000)}`);
  const line = r.stdout.trim().split("\n").at(-1) ?? "";
  const out = JSON.parse(line) as { eventsPerSec: number; seconds: number; outputHash: string };
  return { figures, eventsPerSec: out.eventsPerSec, seconds: out.seconds, outputHash: out.outputHash };
}

/** `pairs` rounds in each mode, interleaved; every round must produce the same output digest. */
export function measureOverhead({ events, pairs }: { events: number; pairs: number }): OverheadResult {
  const args = [
    "--query",
    "q1",
    "--events",
    String(events),
    "--workers",
    "1",
    "--no-limit",
    "--no-wait-quiet",
    "--json",
  ];
  const rounds: OverheadRound[] = [];
  for (let i = 0; i < pairs; i++) {
    const order = i % 2 === 0 ? (["on", "off"] as const) : (["off", "on"] as const);
    for (const mode of order) {
      const r = round(mode, args);
      rounds.push(r);
      console.error(`metrics: q1 figures ${mode}: ${r.eventsPerSec.toLocaleString("en-US")} events/s`);
    }
  }
  const hashes = new Set(rounds.map((r) => r.outputHash));
  if (hashes.size !== 1) throw new Error(`q1 rounds gave different digests: ${[...hashes].join(", ")}`);
  const on = median(rounds.filter((r) => r.figures === "on").map((r) => r.eventsPerSec));
  const off = median(rounds.filter((r) => r.figures === "off").map((r) => r.eventsPerSec));
  return {
    overheadPct: Math.round(((off - on) / off) * 1000) / 10,
    medianOnEventsPerSec: Math.round(on),
    medianOffEventsPerSec: Math.round(off),
    command: `npm run bench -- engine ${args.join(" ")} (SLUICE_NODE_FIGURES=on|off)`,
    rounds,
  };
}
