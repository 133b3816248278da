import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { runFilesQuery, workspaceFilesRoot } from "@sluice/api/queries/files-engine";

// `npm run bench -- query [--rows N] [--rounds N] [--json]` (issue 17): an aggregate over a Parquet file of N rows
// (10 million by default) in a workspace's files folder, through the query service's files path — a confined
// in-memory DuckDB per query, paths checked and rewritten, results made JSON-safe — beside the same SQL in a plain,
// unconfined DuckDB, which is the floor. Prints the medians of the rounds; the target is ≤ 1 s for Sluice's.

interface Options {
  rows: number;
  rounds: number;
  json: boolean;
}

function options(argv: readonly string[]): Options {
  const value = (name: string, fallback: number) => {
    const i = argv.indexOf(name);
    if (i < 0) return fallback;
    const n = Number(argv[i + 1]);
    if (!Number.isInteger(n) || n < 1) throw new Error(`${name}: a whole number from 1 (got ${argv[i + 1]})`);
    return n;
  };
  return { rows: value("--rows", 10_000_000), rounds: value("--rounds", 5), json: argv.includes("--json") };
}

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const round1 = (ms: number) => Math.round(ms * 10) / 10;

const QUERY = `select shop, count(*) as orders, sum(amount) as revenue, max(minute) as last_minute
from 'orders/*.parquet' group by shop order by revenue desc`;

async function main(): Promise<void> {
  const o = options(process.argv.slice(2));
  const filesDir = await mkdtemp(path.join(tmpdir(), "sluice-bench-query-"));
  try {
    const workspace = path.join(filesDir, "bench-workspace");
    await mkdir(path.join(workspace, "orders"), { recursive: true });
    const file = path.join(workspace, "orders", "part-0.parquet");
    const plain = await (await DuckDBInstance.create(":memory:")).connect();
    const written = performance.now();
    await plain.run(
      `COPY (SELECT range AS id, range % 100 AS shop, range % 1440 AS minute, (range % 997) * 0.01 AS amount
       FROM range(${o.rows})) TO '${file}' (FORMAT parquet)`,
    );
    const writeMs = performance.now() - written;

    const root = await workspaceFilesRoot(filesDir, "bench-workspace");
    const sluice: number[] = [];
    const engine: number[] = [];
    const floor: number[] = [];
    let groups = 0;
    for (let i = 0; i < o.rounds; i++) {
      const t0 = performance.now();
      const outcome = await runFilesQuery(
        root,
        { sql: QUERY, limit: 1000, timeoutMs: 60_000 },
        new AbortController().signal,
      );
      sluice.push(performance.now() - t0);
      engine.push(outcome.engineMs);
      groups = outcome.rows.length;
      const t1 = performance.now();
      await plain.runAndReadAll(
        QUERY.replace("'orders/*.parquet'", `'${path.join(workspace, "orders", "*.parquet")}'`),
      );
      floor.push(performance.now() - t1);
    }
    const result = {
      bench: "query",
      rows: o.rows,
      rounds: o.rounds,
      groups,
      parquetWriteMs: Math.round(writeMs),
      sluiceMedianMs: round1(median(sluice)),
      sluiceEngineMedianMs: round1(median(engine)),
      plainDuckdbMedianMs: round1(median(floor)),
      sluiceMs: sluice.map(round1),
      plainDuckdbMs: floor.map(round1),
      targetMs: 1000,
    };
    if (o.json) console.log(JSON.stringify(result));
    else {
      console.log(`aggregate over ${o.rows.toLocaleString("en-US")} Parquet rows, median of ${o.rounds}:`);
      console.log(
        `  Sluice files query ${result.sluiceMedianMs} ms (DuckDB inside it ${result.sluiceEngineMedianMs} ms)`,
      );
      console.log(`  plain DuckDB       ${result.plainDuckdbMedianMs} ms   (target for Sluice: ≤ 1000 ms)`);
    }
  } finally {
    await rm(filesDir, { recursive: true, force: true });
  }
}

await main();
