import { lookup } from "node:dns/promises";
import net from "node:net";
import { networkInterfaces } from "node:os";
import { PermanentConnectorError } from "./runtime-contract";

// Where connections may go. Every connector resolves its host through a DestinationPolicy at connect time, checks
// every address the name resolves to, and connects to the address it checked (the name stays the TLS server name
// and the Host header), so a name that later resolves elsewhere gains nothing. Refused: Sluice's own PostgreSQL
// database and Redis database, always; loopback, unspecified, link-local and cloud-metadata addresses unless
// SLUICE_CONNECTIONS_ALLOW opens them. Server-only.

const ALLOW_SETTING = "SLUICE_CONNECTIONS_ALLOW";

interface Ip {
  v: 4 | 6;
  bytes: Uint8Array;
}

interface Cidr {
  ip: Ip;
  prefix: number;
}

function v4Bytes(text: string): Uint8Array {
  return Uint8Array.from(text.split(".").map(Number));
}

function v6Bytes(text: string): Uint8Array {
  // An embedded dotted quad (::ffff:1.2.3.4) becomes two groups.
  const dotted = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  let s = text;
  if (dotted) {
    const [a, b, c, d] = v4Bytes(dotted[2]!);
    s = `${dotted[1]}${((a! << 8) | b!).toString(16)}:${((c! << 8) | d!).toString(16)}`;
  }
  const [head, tail] = s.includes("::") ? s.split("::") : [s, undefined];
  const groups = (part: string | undefined) => (part ? part.split(":").map((g) => Number.parseInt(g, 16)) : []);
  const h = groups(head);
  const t = groups(tail);
  const all = tail === undefined ? h : [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t];
  const out = new Uint8Array(16);
  all.forEach((g, i) => {
    out[i * 2] = g >> 8;
    out[i * 2 + 1] = g & 0xff;
  });
  return out;
}

/** A host without the brackets of a bracketed IPv6 address (`[::1]` → `::1`); anything else as it is. */
function unbracket(host: string): string {
  return host.replace(/^\[(.*)\]$/, "$1");
}

/** An IPv4 or IPv6 address (brackets and an IPv6 zone allowed), or undefined when `text` is not one. */
function parseIp(text: string): Ip | undefined {
  const s = unbracket(text).replace(/%.*$/, "");
  if (net.isIPv4(s)) return { v: 4, bytes: v4Bytes(s) };
  if (net.isIPv6(s)) return { v: 6, bytes: v6Bytes(s) };
  return undefined;
}

/**
 * The IPv4 address an IPv6 one stands for: IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d) and the NAT64
 * well-known prefix (64:ff9b::a.b.c.d); otherwise the address itself.
 */
function unmapped(ip: Ip): Ip {
  if (ip.v === 4) return ip;
  const b = ip.bytes;
  const zeros = (from: number, to: number) => b.subarray(from, to).every((x) => x === 0);
  const v4 = { v: 4 as const, bytes: b.slice(12) };
  if (zeros(0, 10) && b[10] === 0xff && b[11] === 0xff) return v4;
  const low = (b[12]! | b[13]! | b[14]!) !== 0 || b[15]! > 1; // not :: or ::1
  if (zeros(0, 12) && low) return v4;
  if (b[0] === 0 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b && zeros(4, 12)) return v4;
  return ip;
}

function inCidr(ip: Ip, cidr: Cidr): boolean {
  if (ip.v !== cidr.ip.v) return false;
  let bits = cidr.prefix;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((ip.bytes[i]! & mask) !== (cidr.ip.bytes[i]! & mask)) return false;
  }
  return true;
}

function sameIp(a: Ip, b: Ip): boolean {
  return a.v === b.v && a.bytes.every((x, i) => x === b.bytes[i]);
}

function cidr(text: string): Cidr {
  const [addr, prefix] = text.split("/");
  const ip = parseIp(addr!)!;
  return { ip, prefix: prefix === undefined ? ip.bytes.length * 8 : Number(prefix) };
}

/** What is refused unless allowed, most specific first (a metadata address is named as such, not as link-local). */
const GUARDED: readonly { what: string; ranges: readonly Cidr[] }[] = [
  {
    what: "a cloud metadata address",
    ranges: ["169.254.169.254", "fd00:ec2::254", "100.100.100.200"].map(cidr),
  },
  { what: "a loopback address", ranges: ["127.0.0.0/8", "::1/128"].map(cidr) },
  { what: "an unspecified address", ranges: ["0.0.0.0/8", "::/128"].map(cidr) },
  { what: "a link-local address", ranges: ["169.254.0.0/16", "fe80::/10"].map(cidr) },
];

function guardOf(ip: Ip): string | undefined {
  const plain = unmapped(ip);
  return GUARDED.find((g) => g.ranges.some((r) => inCidr(plain, r)))?.what;
}

/** One entry of SLUICE_CONNECTIONS_ALLOW: an address range, and the one port it opens (every port without). */
interface AllowRule {
  range: Cidr;
  port: number | undefined;
}

export class DestinationPolicyError extends Error {
  override name = "DestinationPolicyError";
}

const SYNTAX = "write an address range with an optional port, e.g. 127.0.0.1/32:5432, 10.0.0.0/8 or [::1]/128:6379";

function allowRule(entry: string): AllowRule {
  const bad = (why: string) =>
    new DestinationPolicyError(`${ALLOW_SETTING}: "${entry}" is not a valid entry (${why}); ${SYNTAX}`);
  let address: string;
  let prefix: string | undefined;
  let port: string | undefined;
  const bracketed = /^\[([^\]/]+)(?:\/(\d+))?\](?:\/(\d+))?(?::(\d+))?$/.exec(entry);
  if (bracketed) {
    if (bracketed[2] !== undefined && bracketed[3] !== undefined) throw bad("the prefix length is given twice");
    [address, prefix, port] = [bracketed[1]!, bracketed[2] ?? bracketed[3], bracketed[4]];
  } else if ((entry.match(/:/g)?.length ?? 0) >= 2) {
    // A bare IPv6 address or range; a port needs brackets.
    [address, prefix] = entry.split("/") as [string, string | undefined];
  } else {
    const m = /^([^/:]+)(?:\/(\d+))?(?::(\d+))?$/.exec(entry);
    if (!m) throw bad("unexpected characters");
    [address, prefix, port] = [m[1]!, m[2], m[3]];
  }
  const ip = parseIp(address);
  if (!ip) throw bad(`"${address}" is not an IP address`);
  const max = ip.bytes.length * 8;
  if (prefix !== undefined && (!/^\d+$/.test(prefix) || Number(prefix) > max)) {
    throw bad(`the prefix length must be 0 to ${max}`);
  }
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65_535)) throw bad("the port must be 1 to 65535");
  return {
    range: { ip, prefix: prefix === undefined ? max : Number(prefix) },
    port: port === undefined ? undefined : Number(port),
  };
}

/** SLUICE_CONNECTIONS_ALLOW's value as rules; a bad entry is a DestinationPolicyError naming the setting and it. */
export function parseAllowList(value: string | undefined): AllowRule[] {
  return (value ?? "")
    .split(",")
    .map((e) => e.trim())
    .filter((e) => e !== "")
    .map(allowRule);
}

/**
 * One of Sluice's own endpoints, refused whatever the allow list says: its PostgreSQL database or its Redis
 * database. Another database on the same server stays reachable.
 */
export interface ProtectedEndpoint {
  kind: "database" | "redis";
  host: string;
  /** What `host` resolved to where the endpoint is known (the web app), so a worker can match it too. */
  addresses: string[];
  port: number;
  /** The PostgreSQL database name, or the Redis database number. */
  database: string | number;
}

/** The endpoints in DATABASE_URL and REDIS_URL (each optional); a URL that cannot be read adds nothing. */
function ownEndpoints(urls: { databaseUrl?: string | undefined; redisUrl?: string | undefined }): ProtectedEndpoint[] {
  const endpoint = (
    kind: ProtectedEndpoint["kind"],
    url: string | undefined,
    defaultPort: number,
    database: (u: URL, path: string) => string | number,
  ): ProtectedEndpoint[] => {
    if (url === undefined) return [];
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      return [];
    }
    if (u.hostname === "") return [];
    const port = u.port === "" ? defaultPort : Number(u.port);
    return [{ kind, host: unbracket(u.hostname), addresses: [], port, database: database(u, u.pathname.slice(1)) }];
  };
  return [
    // PostgreSQL's default database is the user's name.
    ...endpoint("database", urls.databaseUrl, 5432, (u, path) =>
      path !== "" ? decodeURIComponent(path) : decodeURIComponent(u.username) || "postgres",
    ),
    ...endpoint("redis", urls.redisUrl, 6379, (_u, path) => (/^\d+$/.test(path) ? Number(path) : 0)),
  ];
}

/** What a connection speaks, so another database on the server of one of Sluice's own endpoints stays reachable. */
export type DestinationTarget =
  | { protocol: "postgres"; database: string }
  | { protocol: "redis"; db: number }
  | { protocol: "other" };

/** A checked destination: connect to `address`; `host` is what the connection named (TLS server name, Host). */
export interface Destination {
  host: string;
  address: string;
  family: 4 | 6;
  port: number;
  /** The TLS server name: the host when it is a name; undefined for an IP address, which TLS cannot name. */
  servername?: string | undefined;
}

/** A connection refused by the policy. Permanent: no retry changes the answer, so a run fails with the reason. */
export class DestinationRefusedError extends PermanentConnectorError {
  override name = "DestinationRefusedError";
}

/** Resolves and checks the hosts of one connection (its name goes into every refusal). */
export interface ConnectionDestinations {
  resolve(host: string, port: number, target?: DestinationTarget): Promise<Destination>;
}

type Resolver = (host: string) => Promise<{ address: string; family: number }[]>;

const systemResolver: Resolver = (host) => lookup(host, { all: true, verbatim: true });

/**
 * This machine's own interface addresses, read once when first asked for: a loopback endpoint listening on every
 * interface answers on them too.
 */
function localAddresses(): () => readonly Ip[] {
  let found: Ip[] | undefined;
  return () => {
    found ??= Object.values(networkInterfaces())
      .flatMap((list) => list ?? [])
      .map((i) => parseIp(i.address))
      .filter((ip): ip is Ip => ip !== undefined)
      .map(unmapped);
    return found;
  };
}

export class DestinationPolicy {
  private constructor(
    private readonly allow: readonly AllowRule[],
    /** Sluice's own endpoints. */
    readonly protectedEndpoints: readonly ProtectedEndpoint[],
    private readonly resolver: Resolver,
  ) {}

  /**
   * The policy an app builds at start: SLUICE_CONNECTIONS_ALLOW's value (throws DestinationPolicyError for a bad
   * entry) and the app's own DATABASE_URL / REDIS_URL.
   */
  static fromSettings(
    allow: string | undefined,
    own: { databaseUrl?: string | undefined; redisUrl?: string | undefined } = {},
    resolver: Resolver = systemResolver,
  ): DestinationPolicy {
    return new DestinationPolicy(parseAllowList(allow), ownEndpoints(own), resolver);
  }

  /** This policy, also refusing `endpoints` (the web app's own database, carried to a worker with a run). */
  protecting(endpoints: readonly ProtectedEndpoint[]): DestinationPolicy {
    return endpoints.length === 0
      ? this
      : new DestinationPolicy(this.allow, [...this.protectedEndpoints, ...endpoints], this.resolver);
  }

  /**
   * The own endpoints with the addresses their hosts resolve to now, to carry to workers. Endpoints that came with
   * addresses (carried from the web app) keep those: a worker may not be able to resolve the web app's names.
   */
  async resolvedEndpoints(): Promise<ProtectedEndpoint[]> {
    return this.resolveEndpoints(this.protectedEndpoints);
  }

  private resolveEndpoints(endpoints: readonly ProtectedEndpoint[]): Promise<ProtectedEndpoint[]> {
    return Promise.all(
      endpoints.map(async (e) => (e.addresses.length > 0 ? e : { ...e, addresses: await this.addressesOf(e.host) })),
    );
  }

  /** The checker for one connection; `connection` names it in refusals (omit for a draft without a name). */
  for(connection: string | undefined): ConnectionDestinations {
    return { resolve: (host, port, target) => this.resolve(connection, host, port, target) };
  }

  private async addressesOf(host: string): Promise<string[]> {
    if (parseIp(host)) return [unbracket(host)];
    try {
      return (await this.resolver(host)).map((a) => a.address);
    } catch {
      return [];
    }
  }

  private async resolve(
    connection: string | undefined,
    host: string,
    port: number,
    target: DestinationTarget = { protocol: "other" },
  ): Promise<Destination> {
    const prefix = connection !== undefined ? `connection "${connection}": ` : "";
    const bare = unbracket(host);
    if (bare.includes("/")) {
      throw new DestinationRefusedError(`${prefix}${host} is a socket path; Sluice connects over TCP only`);
    }
    const literal = parseIp(bare);
    const found = literal ? [{ address: bare, family: literal.v }] : await this.resolver(bare);
    if (found.length === 0) throw Object.assign(new Error(`${host} does not resolve`), { code: "ENOTFOUND" });
    // Only an own endpoint on this port can be the one reached; only those names are resolved.
    const own = await this.resolveEndpoints(this.protectedEndpoints.filter((e) => e.port === port));
    const locals = localAddresses();
    for (const a of found) {
      const why = this.refusal(parseIp(a.address)!, port, target, own, locals);
      if (why !== undefined) {
        const where = literal ? `${formatAddress(a.address)}:${port}` : `${host} (${formatAddress(a.address)}:${port})`;
        throw new DestinationRefusedError(`${prefix}${where} ${why}`);
      }
    }
    const first = found[0]!;
    const family = first.family === 6 ? 6 : 4;
    return { host: bare, address: first.address, family, port, servername: literal ? undefined : bare };
  }

  private refusal(
    ip: Ip,
    port: number,
    target: DestinationTarget,
    own: readonly ProtectedEndpoint[],
    locals: () => readonly Ip[],
  ): string | undefined {
    const plain = unmapped(ip);
    for (const e of own) {
      if (e.port !== port || !reaches(e, plain, locals)) continue;
      if (e.kind === "database") {
        if (target.protocol === "postgres" && target.database !== e.database) continue;
        return `is Sluice's own database${typeof e.database === "string" ? ` ("${e.database}")` : ""}, which no connection may reach (another database on that server may be used)`;
      }
      if (target.protocol === "redis" && target.db !== e.database) continue;
      return `is Sluice's own Redis (database ${e.database}), which no connection may reach (another database number on that server may be used)`;
    }
    const guard = guardOf(plain);
    if (guard === undefined) return undefined;
    const allowed = this.allow.some(
      (r) => (r.port === undefined || r.port === port) && (inCidr(plain, r.range) || inCidr(ip, r.range)),
    );
    return allowed ? undefined : `is ${guard}, which Sluice does not connect to unless ${ALLOW_SETTING} allows it`;
  }
}

/** Whether `ip` reaches endpoint `e`: one of its addresses, or any local address when it listens on this machine. */
function reaches(e: ProtectedEndpoint, ip: Ip, locals: () => readonly Ip[]): boolean {
  const addresses = [e.host, ...e.addresses]
    .map(parseIp)
    .filter((a): a is Ip => a !== undefined)
    .map(unmapped);
  if (addresses.some((a) => sameIp(a, ip))) return true;
  const onThisMachine = addresses.some((a) => {
    const g = guardOf(a);
    return g === "a loopback address" || g === "an unspecified address" || locals().some((l) => sameIp(l, a));
  });
  if (!onThisMachine) return false;
  const g = guardOf(ip);
  return g === "a loopback address" || g === "an unspecified address" || locals().some((l) => sameIp(l, ip));
}

/** An address as it is written before `:port`: an IPv6 address in brackets. */
export function formatAddress(address: string): string {
  return address.includes(":") ? `[${address}]` : address;
}

/** Wraps a sealed run's connections with the endpoints a worker must refuse besides its own (see ProtectedEndpoint). */
interface SealedRunConnections<B> {
  v: 2;
  connections: B;
  protectedEndpoints: ProtectedEndpoint[];
}

export function runConnectionsPayload<B>(
  connections: B,
  protectedEndpoints: ProtectedEndpoint[],
): SealedRunConnections<B> {
  return { v: 2, connections, protectedEndpoints };
}

/** What was sealed: the wrapped form, or a bare bundle sealed by an older web app (no endpoints then). */
export function readRunConnections<B>(opened: unknown): { connections: B; protectedEndpoints: ProtectedEndpoint[] } {
  const o = opened as Partial<SealedRunConnections<B>> | null;
  if (o !== null && typeof o === "object" && o.v === 2 && Array.isArray(o.protectedEndpoints)) {
    return { connections: o.connections as B, protectedEndpoints: o.protectedEndpoints };
  }
  return { connections: opened as B, protectedEndpoints: [] };
}
