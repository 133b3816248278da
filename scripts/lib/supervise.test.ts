import { afterEach, describe, expect, it } from "vitest";
import { Child } from "./proc.mjs";
import { GaveUp, Supervisor } from "./supervise.mjs";

// The supervision of `npm start` with real child processes: one that exits is named, with its reason, and started
// again; one that keeps exiting ends the supervision with the reason; one stopped on purpose stays stopped.

const started: Child[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((child) => child.stop({ graceMs: 1000 })));
});

function node(name: string, script: string): Child {
  const child = new Child(name, process.execPath, ["-e", script], { output: "capture" });
  started.push(child);
  return child;
}

const runsUntilStopped = "setInterval(() => {}, 1000)";
const fast = { firstDelayMs: 10, maxDelayMs: 50, windowMs: 60_000 };

async function until(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("Supervisor", () => {
  it("names a process that stopped, with its exit reason, and starts it again", async () => {
    const lines: string[] = [];
    const supervisor = new Supervisor({ ...fast, maxRestarts: 3, report: (line) => lines.push(line) });
    const unit = supervisor.watch("worker", node("worker", "console.log('out of memory'); process.exit(134)"), () =>
      node("worker", runsUntilStopped),
    );
    await until(() => lines.some((l) => l.includes("is running again")));
    expect(lines.join("\n")).toContain("the worker process stopped unexpectedly (exit code 134)");
    expect(lines.join("\n")).toContain("out of memory");
    expect(lines.join("\n")).toMatch(/restarting the worker process in 10 ms \(restart 1 of at most 3 within 1 min\)/);
    expect(unit.child.exitInfo).toBeUndefined();
    expect(unit.child.pid).not.toBe(started[0]?.pid);
    supervisor.stop();
  });

  it("reports a signal as the reason", async () => {
    const lines: string[] = [];
    const supervisor = new Supervisor({ ...fast, report: (line) => lines.push(line) });
    const child = node("web", runsUntilStopped);
    supervisor.watch("web", child, () => node("web", runsUntilStopped));
    await until(() => child.pid !== undefined);
    process.kill(child.pid!, "SIGKILL");
    await until(() => lines.some((l) => l.includes("is running again")));
    expect(lines.join("\n")).toContain("the web process stopped unexpectedly (signal SIGKILL)");
    supervisor.stop();
  });

  it("gives up on a process that keeps stopping, with the reason", async () => {
    const lines: string[] = [];
    const supervisor = new Supervisor({ ...fast, maxRestarts: 2, report: (line) => lines.push(line) });
    let starts = 0;
    supervisor.watch("Redis", node("Redis", "process.exit(1)"), () => {
      starts++;
      return node("Redis", "process.exit(1)");
    });
    const gaveUp = await supervisor.gaveUp;
    expect(gaveUp).toBeInstanceOf(GaveUp);
    expect(starts).toBe(2);
    expect(gaveUp.message).toBe(
      "the Redis process keeps stopping (2 restarts within 1 min did not help; the last one: exit code 1)",
    );
    expect(lines.filter((l) => l.includes("stopped unexpectedly (exit code 1)"))).toHaveLength(3);
  });

  it("counts a restart that fails as a try", async () => {
    const lines: string[] = [];
    const supervisor = new Supervisor({ ...fast, maxRestarts: 2, report: (line) => lines.push(line) });
    supervisor.watch("PostgreSQL", node("PostgreSQL", "process.exit(2)"), () => {
      throw new Error("port 54329 (for the embedded PostgreSQL) is in use");
    });
    const gaveUp = await supervisor.gaveUp;
    expect(gaveUp.reason).toContain("could not restart it: port 54329 (for the embedded PostgreSQL) is in use");
    expect(lines.join("\n")).toContain("could not restart the PostgreSQL process: port 54329");
  });

  it("does not restart a process stopped on purpose, nor anything once stopped", async () => {
    const lines: string[] = [];
    const supervisor = new Supervisor({ ...fast, report: (line) => lines.push(line) });
    let starts = 0;
    const restart = () => {
      starts++;
      return node("x", runsUntilStopped);
    };
    const web = node("web", runsUntilStopped);
    const worker = node("worker", runsUntilStopped);
    supervisor.watch("web", web, restart);
    supervisor.watch("worker", worker, restart);
    await web.stop({ graceMs: 2000 });
    supervisor.stop();
    await worker.stop({ graceMs: 2000 });
    await new Promise((r) => setTimeout(r, 100));
    expect(starts).toBe(0);
    expect(lines).toEqual([]);
  });
});
