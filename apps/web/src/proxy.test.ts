import { NextRequest } from "next/server";
import { describe, expect, it } from "vitest";
import nextConfig from "../next.config";
import { config, proxy } from "./proxy";
import { BASE_HEADERS, pageCsp } from "./server/security-headers";

// Pages get their policy from proxy.ts; the fixed headers come from next.config.ts for every path.

function matches(pathname: string): boolean {
  const source = config.matcher[0]!;
  return new RegExp(`^${source}$`).test(pathname);
}

describe("security headers of pages", () => {
  it("gives each page view a CSP with a fresh nonce, framing refused and no eval outside development", () => {
    const first = proxy(new NextRequest("http://sluice.test/pipelines"));
    const second = proxy(new NextRequest("http://sluice.test/signin"));
    const policy = first.headers.get("content-security-policy") ?? "";
    expect(policy).toMatch(/script-src 'self' 'nonce-[A-Za-z0-9+/=]{24}' 'strict-dynamic';/);
    expect(policy).toContain("frame-ancestors 'none'");
    expect(policy).toContain("object-src 'none'");
    expect(policy).toContain("style-src 'self' 'unsafe-inline'");
    expect(policy).not.toContain("unsafe-eval");
    expect(second.headers.get("content-security-policy")).not.toBe(policy);
    // Next reads the nonce from the request's policy when it renders the page.
    expect(first.headers.get("x-middleware-request-content-security-policy")).toBe(policy);
    expect(first.headers.get("strict-transport-security")).toBeNull(); // SLUICE_COOKIE_SECURE is not set here
  });

  it("hands the page's own path and query on to the layouts, whatever the client sent", () => {
    const forged = new NextRequest("http://sluice.test/runs?limit=5&_rsc=abc", {
      headers: { "x-sluice-path": "//evil.example" },
    });
    expect(proxy(forged).headers.get("x-middleware-request-x-sluice-path")).toBe("/runs?limit=5");
  });

  it("allows eval only in development, and asks for HTTPS only when cookies are Secure", () => {
    expect(pageCsp("n", { dev: true, secure: false })).toContain("'unsafe-eval'");
    expect(pageCsp("n", { dev: false, secure: true })).toContain("upgrade-insecure-requests");
    expect(pageCsp("n", { dev: false, secure: false })).not.toContain("upgrade-insecure-requests");
  });

  it("runs for pages and files but not for the API, whose bodies must stream", () => {
    for (const path of ["/", "/pipelines", "/pipelines/abc", "/signin", "/icon.svg"])
      expect(matches(path), path).toBe(true);
    for (const path of ["/api/trpc/auth.me", "/api/ingest/p1", "/api/health", "/_next/static/chunks/a.js"]) {
      expect(matches(path), path).toBe(false);
    }
  });

  it("sends the fixed headers (nosniff, framing, referrer, permissions) on every path", async () => {
    const rules = (await nextConfig.headers?.()) ?? [];
    const all = rules.find((r) => r.source === "/:path*");
    expect(Object.fromEntries((all?.headers ?? []).map((h) => [h.key, h.value]))).toEqual(BASE_HEADERS);
    expect(BASE_HEADERS["x-frame-options"]).toBe("DENY");
    expect(BASE_HEADERS["x-content-type-options"]).toBe("nosniff");
  });
});
