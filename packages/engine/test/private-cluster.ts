import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { Redis } from "ioredis";

// A Redis Cluster of a test's own: three masters on free loopback ports, slots spread over them.

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

async function answers(port: number): Promise<boolean> {
  const probe = new Redis(port, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  probe.on("error", () => {});
  try {
    await probe.connect();
    return (await probe.ping()) === "PONG";
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

export class PrivateCluster {
  private readonly dir = mkdtempSync(path.join(tmpdir(), "sluice-cluster-"));
  private readonly children: ChildProcess[] = [];
  readonly ports: number[] = [];

  static async start(masters = 3): Promise<PrivateCluster> {
    const cluster = new PrivateCluster();
    for (let i = 0; i < masters; i++) {
      // Cluster nodes talk on port + 10000 too: pick ports whose bus port is below 65536.
      let port = await freePort();
      while (port > 55_000) port = await freePort();
      cluster.ports.push(port);
      cluster.children.push(
        spawn(
          "redis-server",
          [
            "--port",
            String(port),
            "--bind",
            "127.0.0.1",
            "--cluster-enabled",
            "yes",
            "--cluster-config-file",
            `nodes-${port}.conf`,
            "--dir",
            cluster.dir,
            "--save",
            "",
            "--appendonly",
            "no",
          ],
          { stdio: "ignore" },
        ),
      );
    }
    for (const port of cluster.ports) {
      const deadline = Date.now() + 10_000;
      while (!(await answers(port))) {
        if (Date.now() > deadline) throw new Error(`cluster node on ${port} did not start`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    const create = spawnSync(
      "redis-cli",
      [
        "--cluster",
        "create",
        ...cluster.ports.map((p) => `127.0.0.1:${p}`),
        "--cluster-replicas",
        "0",
        "--cluster-yes",
      ],
      { encoding: "utf8" },
    );
    if (create.status !== 0) throw new Error(`redis-cli --cluster create failed: ${create.stdout}${create.stderr}`);
    const deadline = Date.now() + 20_000;
    for (;;) {
      const probe = new Redis(cluster.ports[0]!);
      const info = await probe.cluster("INFO");
      probe.disconnect();
      if (String(info).includes("cluster_state:ok")) break;
      if (Date.now() > deadline) throw new Error("the private cluster did not reach cluster_state:ok");
      await new Promise((r) => setTimeout(r, 100));
    }
    return cluster;
  }

  get seedUrl(): string {
    return `redis://127.0.0.1:${this.ports[0]}`;
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.children.map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.exitCode !== null) return resolve();
            c.once("exit", () => resolve());
            c.kill("SIGKILL");
          }),
      ),
    );
    rmSync(this.dir, { recursive: true, force: true });
  }
}
