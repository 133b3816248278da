import { describe, expect, it } from "vitest";
import {
  DestinationPolicy,
  DestinationPolicyError,
  DestinationRefusedError,
  formatAddress,
  parseAllowList,
  readRunConnections,
  runConnectionsPayload,
} from "./destination-policy";

// A resolver that answers from a table, so no test depends on the machine's DNS.
const names: Record<string, string[]> = {
  "db.example": ["203.0.113.10"],
  "rebind.example": ["203.0.113.11", "127.0.0.1"],
  "metadata.example": ["169.254.169.254"],
  "sluice-db.internal": ["10.1.2.3"],
};
const resolver = async (host: string) => {
  const found = names[host];
  if (!found) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: "ENOTFOUND" });
  return found.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
};

function policy(allow?: string, own: { databaseUrl?: string; redisUrl?: string } = {}) {
  return DestinationPolicy.fromSettings(allow, own, resolver);
}

async function refusal(
  p: DestinationPolicy,
  host: string,
  port: number,
  target?: Parameters<ReturnType<DestinationPolicy["for"]>["resolve"]>[2],
) {
  try {
    await p.for("warehouse").resolve(host, port, target);
    return undefined;
  } catch (err) {
    if (err instanceof DestinationRefusedError) return err.message;
    throw err;
  }
}

describe("SLUICE_CONNECTIONS_ALLOW", () => {
  it("reads address ranges with optional ports, IPv4 and IPv6", () => {
    const rules = parseAllowList(" 127.0.0.1/32:5432, 10.0.0.0/8,[::1]/128:6379, [fe80::1]:80, fd00::/8 ,192.168.1.5,");
    expect(rules.map((r) => [r.range.prefix, r.port])).toEqual([
      [32, 5432],
      [8, undefined],
      [128, 6379],
      [128, 80],
      [8, undefined],
      [32, undefined],
    ]);
    expect(parseAllowList(undefined)).toEqual([]);
    expect(parseAllowList("")).toEqual([]);
  });

  it.each([
    ["localhost", '"localhost" is not an IP address'],
    ["10.0.0.0/33", "the prefix length must be 0 to 32"],
    ["127.0.0.1:70000", "the port must be 1 to 65535"],
    ["[::1]/129", "the prefix length must be 0 to 128"],
    ["127.0.0.1/8/8", "unexpected characters"],
  ])("refuses %s, naming the setting and the entry", (entry, why) => {
    expect(() => parseAllowList(`127.0.0.0/8,${entry}`)).toThrow(DestinationPolicyError);
    expect(() => parseAllowList(`127.0.0.0/8,${entry}`)).toThrow(
      `SLUICE_CONNECTIONS_ALLOW: "${entry}" is not a valid entry (${why})`,
    );
  });
});

describe("DestinationPolicy", () => {
  it.each([
    ["127.0.0.1", "a loopback address"],
    ["127.8.9.10", "a loopback address"],
    ["::1", "a loopback address"],
    ["::ffff:127.0.0.1", "a loopback address"],
    ["::ffff:7f00:1", "a loopback address"],
    ["0.0.0.0", "an unspecified address"],
    ["::", "an unspecified address"],
    ["169.254.10.20", "a link-local address"],
    ["fe80::1", "a link-local address"],
    ["169.254.169.254", "a cloud metadata address"],
    ["::ffff:169.254.169.254", "a cloud metadata address"],
    ["fd00:ec2::254", "a cloud metadata address"],
    ["100.100.100.200", "a cloud metadata address"],
  ])("refuses %s by default as %s", async (address, what) => {
    const shown = address.includes(":") ? `[${address}]` : address;
    expect(await refusal(policy(), address, 5432)).toBe(
      `connection "warehouse": ${shown}:5432 is ${what}, which Sluice does not connect to unless SLUICE_CONNECTIONS_ALLOW allows it`,
    );
  });

  it("lets other addresses through, to the address it checked", async () => {
    expect(await policy().for("w").resolve("203.0.113.7", 5432)).toEqual({
      host: "203.0.113.7",
      address: "203.0.113.7",
      family: 4,
      port: 5432,
    });
    expect(await policy().for("w").resolve("db.example", 5432)).toEqual({
      host: "db.example",
      address: "203.0.113.10",
      family: 4,
      port: 5432,
      servername: "db.example",
    });
  });

  it("names the TLS server only for a host name, and writes IPv6 addresses in brackets", async () => {
    expect((await policy().for("w").resolve("[2001:db8::1]", 443)).servername).toBeUndefined();
    expect((await policy().for("w").resolve("2001:db8::1", 443)).host).toBe("2001:db8::1");
    expect(formatAddress("2001:db8::1")).toBe("[2001:db8::1]");
    expect(formatAddress("203.0.113.7")).toBe("203.0.113.7");
  });

  it("resolves only the own endpoints on the port asked for", async () => {
    const asked: string[] = [];
    const counting = async (host: string) => {
      asked.push(host);
      return resolver(host);
    };
    const own = { databaseUrl: "postgres://u@sluice-db.internal/app", redisUrl: "redis://sluice-db.internal:6380" };
    const p = DestinationPolicy.fromSettings(undefined, own, counting);
    await p.for("w").resolve("db.example", 443);
    expect(asked).toEqual(["db.example"]);
    asked.length = 0;
    await p.for("w").resolve("db.example", 5432, { protocol: "postgres", database: "other" });
    expect(asked).toEqual(["db.example", "sluice-db.internal"]);
  });

  it("checks every address a name resolves to, and names both in the refusal", async () => {
    expect(await refusal(policy(), "rebind.example", 6379)).toBe(
      'connection "warehouse": rebind.example (127.0.0.1:6379) is a loopback address, which Sluice does not connect to unless SLUICE_CONNECTIONS_ALLOW allows it',
    );
    expect(await refusal(policy(), "metadata.example", 80)).toContain("is a cloud metadata address");
  });

  it("opens a range, on one port or all", async () => {
    const p = policy("127.0.0.1/32:5432,[::1]/128:6379,169.254.0.0/16");
    expect(await refusal(p, "127.0.0.1", 5432)).toBeUndefined();
    expect(await refusal(p, "::ffff:127.0.0.1", 5432)).toBeUndefined();
    expect(await refusal(p, "127.0.0.1", 5433)).toContain("is a loopback address");
    expect(await refusal(p, "127.0.0.2", 5432)).toContain("is a loopback address");
    expect(await refusal(p, "::1", 6379)).toBeUndefined();
    expect(await refusal(p, "::1", 5432)).toContain("is a loopback address");
    expect(await refusal(p, "169.254.169.254", 80)).toBeUndefined();
  });

  it("refuses Sluice's own database whatever is allowed, but not another database on that server", async () => {
    const p = policy("127.0.0.0/8", { databaseUrl: "postgresql://sluice:pw@127.0.0.1:54329/sluice" });
    expect(await refusal(p, "127.0.0.1", 54329, { protocol: "postgres", database: "sluice" })).toBe(
      `connection "warehouse": 127.0.0.1:54329 is Sluice's own database ("sluice"), which no connection may reach (another database on that server may be used)`,
    );
    // The same server through another loopback address or the IPv4-mapped form.
    expect(await refusal(p, "127.0.0.2", 54329, { protocol: "postgres", database: "sluice" })).toContain(
      "Sluice's own database",
    );
    expect(await refusal(p, "::ffff:127.0.0.1", 54329, { protocol: "postgres", database: "sluice" })).toContain(
      "Sluice's own database",
    );
    expect(await refusal(p, "127.0.0.1", 54329, { protocol: "postgres", database: "warehouse" })).toBeUndefined();
    // Another protocol on that port could only speak to the same server.
    expect(await refusal(p, "127.0.0.1", 54329)).toContain("Sluice's own database");
    expect(await refusal(p, "127.0.0.1", 5432, { protocol: "postgres", database: "sluice" })).toBeUndefined();
  });

  it("refuses Sluice's own Redis database, by name too, but not another database number", async () => {
    const p = policy("127.0.0.0/8", { redisUrl: "redis://127.0.0.1:6379" });
    expect(await refusal(p, "127.0.0.1", 6379, { protocol: "redis", db: 0 })).toBe(
      `connection "warehouse": 127.0.0.1:6379 is Sluice's own Redis (database 0), which no connection may reach (another database number on that server may be used)`,
    );
    expect(await refusal(p, "127.0.0.1", 6379, { protocol: "redis", db: 1 })).toBeUndefined();
    const named = policy(undefined, { databaseUrl: "postgres://u@sluice-db.internal/app" });
    expect(await refusal(named, "10.1.2.3", 5432, { protocol: "postgres", database: "app" })).toContain(
      "Sluice's own database",
    );
  });

  it("carries its own endpoints, resolved, to a worker that knows none", async () => {
    const web = policy(undefined, { databaseUrl: "postgres://u@sluice-db.internal:5433/app" });
    const endpoints = await web.resolvedEndpoints();
    expect(endpoints).toEqual([
      { kind: "database", host: "sluice-db.internal", addresses: ["10.1.2.3"], port: 5433, database: "app" },
    ]);
    const sealed = JSON.parse(JSON.stringify(runConnectionsPayload({ w: { type: "postgres" } }, endpoints)));
    const opened = readRunConnections<Record<string, unknown>>(sealed);
    expect(opened.connections).toEqual({ w: { type: "postgres" } });
    // The worker cannot resolve the name: it matches the addresses the web app saw.
    const worker = DestinationPolicy.fromSettings(undefined, {}, async () => []).protecting(opened.protectedEndpoints);
    await expect(worker.for("w").resolve("10.1.2.3", 5433, { protocol: "postgres", database: "app" })).rejects.toThrow(
      "is Sluice's own database",
    );
    // A bundle sealed by an older web app: the bundle itself, no endpoints.
    expect(readRunConnections({ w: { type: "postgres" } })).toEqual({
      connections: { w: { type: "postgres" } },
      protectedEndpoints: [],
    });
  });

  it("refuses socket paths, and says when a name does not resolve", async () => {
    expect(await refusal(policy("127.0.0.0/8"), "/var/run/postgresql", 5432)).toContain("is a socket path");
    await expect(policy().for("w").resolve("nowhere.example", 5432)).rejects.toMatchObject({ code: "ENOTFOUND" });
  });
});
