import { type NextRequest, NextResponse } from "next/server";
import { webEnv } from "./server/env";
import { REQUEST_PATH_HEADER } from "./server/request-path-header";
import { HSTS, newNonce, pageCsp } from "./server/security-headers";

// Pages get a Content-Security-Policy with a nonce of their own: Next reads the policy from the request, puts the
// nonce on the scripts it renders, and the browser runs no other inline script. The headers that never change come
// from next.config.ts; API routes set theirs in their handlers (see server/security-headers.ts for why not here).

export function proxy(request: NextRequest): NextResponse {
  const env = webEnv();
  const policy = pageCsp(newNonce(), { dev: env.dev, secure: env.secureCookies });
  const requestHeaders = new Headers(request.headers);
  requestHeaders.set("content-security-policy", policy);
  // Layouts cannot see the URL: the page asked for goes along, so a sign-in can come back to it (never the client's).
  const asked = request.nextUrl.clone();
  asked.searchParams.delete("_rsc"); // a client-side navigation's cache key, not part of the page's address
  requestHeaders.set(REQUEST_PATH_HEADER, `${asked.pathname}${asked.search}`);
  const response = NextResponse.next({ request: { headers: requestHeaders } });
  response.headers.set("content-security-policy", policy);
  if (env.secureCookies) response.headers.set("strict-transport-security", HSTS);
  return response;
}

export const config = {
  // Everything but the API (whose bodies must stream past the proxy) and Next's build files (scripts and styles that
  // a page's policy already governs).
  matcher: ["/((?!api/|_next/static/|_next/image/).*)"],
};
