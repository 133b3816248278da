import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { emptyDefinition } from "@sluice/pipeline/definition";
import { appEnvironment, startWeb, startWorker, waitUntilHealthy } from "@sluice/scripts/lib/app.mjs";
import type { Child } from "@sluice/scripts/lib/proc.mjs";
import {
  createTestDatabase,
  ensureTemplateDatabase,
  type TestDatabase,
  testRedisUrl,
  uniquePrefix,
} from "@sluice/scripts/lib/test-db";
import { ensureWebBuild } from "@sluice/scripts/lib/web-build.mjs";

// Part of `npm run bench -- metrics` (issue 14): many browsers watching one run's live figures. Starts the app as the
// e2e suite does (a fresh database from the test template, a fresh Redis prefix, `next start` and one worker), signs
// up and in through the API, starts a run of a generator → filter → console pipeline, and lets
// metrics-sse-clients.ts (a process of its own on loopback) hold --clients SSE subscriptions to runs.figures for
// --seconds. Meanwhile the web server's CPU is read from /proc/<pid>/stat (utime + stime, the process and any
// children it has) at the window's start and end.

export interface LiveResult {
  sseClients: number;
  clients: number;
  connected: number;
  maxUpdateDelayMs: number;
  p50UpdateDelayMs: number | null;
  p99UpdateDelayMs: number | null;
  secondsExpected: number;
  webCpuCores: number;
  windowSeconds: number;
  errors: string[];
  /** Late seconds that came within 50 ms of the next one (the server sent them late). */
  lateArrivedWithNext: number;
  /** Per second (its start) that some clients got late or not at all: how many. */
  lateClientsBySecond: Record<string, number>;
}

const root = fileURLToPath(new URL("..", import.meta.url));
const clientsScript = fileURLToPath(new URL("./metrics-sse-clients.ts", import.meta.url));
const CLOCK_TICKS = 100; // USER_HZ on Linux

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}

/** CPU ticks (user + system) of `pid` and every descendant. */
function cpuTicks(pid: number): number {
  const stats = new Map<number, { ppid: number; ticks: number }>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const text = readFileSync(`/proc/${entry}/stat`, "utf8");
      // Fields after the command name (which may hold spaces), from field 3 (state) on.
      const f = text.slice(text.lastIndexOf(")") + 2).split(" ");
      stats.set(Number(entry), { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) });
    } catch {
      // gone meanwhile
    }
  }
  let ticks = 0;
  const todo = [pid];
  while (todo.length > 0) {
    const p = todo.pop()!;
    ticks += stats.get(p)?.ticks ?? 0;
    for (const [child, s] of stats) if (s.ppid === p) todo.push(child);
  }
  return ticks;
}

async function call(baseUrl: string, path: string, input: unknown, cookie = ""): Promise<Response> {
  const res = await fetch(`${baseUrl}/api/trpc/${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", cookie },
    body: JSON.stringify({ json: input }),
  });
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status} ${(await res.text()).slice(0, 500)}`);
  return res;
}

async function startRun(baseUrl: string): Promise<{ cookie: string; runId: string }> {
  const email = `bench-${Date.now()}@example.com`;
  const password = `bench-${randomBytes(8).toString("hex")}`;
  await call(baseUrl, "auth.signUp", { email, name: "Bench", password });
  const signedIn = await call(baseUrl, "auth.signIn", { email, password });
  const cookie = signedIn.headers
    .getSetCookie()
    .map((c) => c.split(";")[0])
    .join("; ");
  const def = emptyDefinition("bench-live-figures");
  def.spec.settings.parallelism = 4;
  def.spec.nodes.push(
    { id: "gen", type: "source.generator", config: { rate: 1000 } },
    { id: "keep", type: "transform.filter", config: { where: "status = 200" } },
    { id: "out", type: "sink.console", config: {} },
  );
  def.spec.edges.push({ from: "gen", to: "keep" }, { from: "keep", to: "out" });
  const created = (await (
    await call(baseUrl, "pipelines.create", { name: "bench-live", definition: def }, cookie)
  ).json()) as {
    result: { data: { json: { id: string } } };
  };
  const started = (await (
    await call(baseUrl, "runs.start", { pipelineId: created.result.data.json.id }, cookie)
  ).json()) as { result: { data: { json: { id: string } } } };
  return { cookie, runId: started.result.data.json.id };
}

export async function measureLiveFigures({
  clients,
  seconds,
}: {
  clients: number;
  seconds: number;
}): Promise<LiveResult> {
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  let database: TestDatabase | undefined;
  let children: Child[] = [];
  try {
    await ensureTemplateDatabase();
    database = await createTestDatabase("", { namePrefix: "sluice_bench" });
    const env = appEnvironment({
      databaseUrl: database.url,
      redisUrl: testRedisUrl(),
      port,
      redisPrefix: uniquePrefix("bench-live"),
      secretKey: randomBytes(32).toString("hex"),
      nodeEnv: "production",
    });
    env.SLUICE_LOG_LEVEL = "warn";
    await ensureWebBuild(root, env);
    const web = startWeb({ root, port, env });
    children = [web, startWorker({ root, env })];
    await waitUntilHealthy({ baseUrl, children, timeoutMs: 90_000 });
    const { cookie, runId } = await startRun(baseUrl);
    // Let the run get going (partitions leased, figures flowing) before the crowd arrives.
    await new Promise((r) => setTimeout(r, 5000));

    const load = spawn(
      process.execPath,
      ["--import", "tsx", clientsScript, baseUrl, runId, String(clients), String(seconds)],
      { env: { ...process.env, SLUICE_BENCH_COOKIE: cookie }, stdio: ["ignore", "pipe", "inherit"] },
    );
    const webPid = web.pid!;
    let cpuStart = 0;
    let cpuEnd = 0;
    let startAt = 0;
    let endAt = 0;
    let summary: Record<string, unknown> | undefined;
    for await (const line of createInterface({ input: load.stdout })) {
      const m = JSON.parse(line) as Record<string, unknown>;
      if (m.window === "start") {
        cpuStart = cpuTicks(webPid);
        startAt = Date.now();
      } else if (m.window === "end") {
        cpuEnd = cpuTicks(webPid);
        endAt = Date.now();
      } else summary = m;
    }
    if (!summary) throw new Error("the SSE clients' process printed no summary");
    const windowSeconds = (endAt - startAt) / 1000;
    return {
      sseClients: summary.clientsWithEveryUpdate as number,
      clients,
      connected: summary.connected as number,
      maxUpdateDelayMs: summary.maxDelayMs as number,
      p50UpdateDelayMs: summary.p50DelayMs as number | null,
      p99UpdateDelayMs: summary.p99DelayMs as number | null,
      secondsExpected: summary.secondsExpected as number,
      webCpuCores: Math.round(((cpuEnd - cpuStart) / CLOCK_TICKS / windowSeconds) * 1000) / 1000,
      windowSeconds: Math.round(windowSeconds * 10) / 10,
      errors: summary.errors as string[],
      lateArrivedWithNext: summary.lateArrivedWithNext as number,
      lateClientsBySecond: summary.lateClientsBySecond as Record<string, number>,
    };
  } finally {
    await Promise.all(children.map((c) => c.stop({ graceMs: 10_000 })));
    await database?.drop().catch(() => {});
  }
}
