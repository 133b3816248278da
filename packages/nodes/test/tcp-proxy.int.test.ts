import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { TcpProxy } from "./tcp-proxy";

let proxy: TcpProxy | undefined;
afterEach(async () => {
  await proxy?.close();
});

describe("tcp proxy", () => {
  it("forwards, cuts every connection, refuses new ones, and comes back on the same port", async () => {
    proxy = await TcpProxy.start(6379);
    const redis = new Redis({
      port: proxy.port,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      lazyConnect: true,
    });
    redis.on("error", () => {});
    await redis.connect();
    expect(await redis.ping()).toBe("PONG");
    await proxy.cut();
    await expect(redis.ping()).rejects.toThrow();
    const refused = new Redis({
      port: proxy.port,
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    refused.on("error", () => {});
    await expect(refused.connect()).rejects.toThrow();
    await proxy.resume();
    const again = new Redis({ port: proxy.port, lazyConnect: true });
    await again.connect();
    expect(await again.ping()).toBe("PONG");
    again.disconnect();
    redis.disconnect();
    refused.disconnect();
  });
});
