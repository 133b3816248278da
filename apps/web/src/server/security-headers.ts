// The security headers of every response. Three places apply them, because Next serves responses three ways:
// - next.config.ts `headers()` adds BASE_HEADERS to every path (pages, API routes, static files, Next's own 404s);
// - proxy.ts adds a page's Content-Security-Policy with a fresh nonce (and HSTS) to pages;
// - the API route handlers add API_CSP (and HSTS) to their answers; proxy.ts does not run for /api, because Next
//   buffers (and past its limit, truncates) a request body for a proxy, and ingest bodies must stream.

/** Headers whose value never depends on the request or the environment. */
export const BASE_HEADERS: Readonly<Record<string, string>> = {
  "x-content-type-options": "nosniff",
  // Old browsers that do not know CSP's frame-ancestors.
  "x-frame-options": "DENY",
  "referrer-policy": "strict-origin-when-cross-origin",
  "permissions-policy":
    "camera=(), microphone=(), geolocation=(), payment=(), usb=(), serial=(), bluetooth=(), hid=(), midi=(), browsing-topics=()",
  "cross-origin-opener-policy": "same-origin",
};

/** Answers of API routes are data, never documents: nothing may load from them or frame them. */
const API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/**
 * A page's policy. Scripts need this request's nonce (Next puts it on its own scripts when it finds it in the
 * request's CSP); `'strict-dynamic'` lets those load the page's chunks. `'unsafe-eval'` only in development, where
 * React rebuilds server error stacks with eval. Styles allow `'unsafe-inline'`: React Flow positions every node,
 * edge and the viewport with inline `style` attributes, which a nonce cannot cover (and a nonce in style-src would
 * make browsers ignore 'unsafe-inline'); inline styles cannot run code, so scripts stay locked down.
 */
export function pageCsp(nonce: string, options: { dev: boolean; secure: boolean }): string {
  return [
    "default-src 'self'",
    `script-src 'self' 'nonce-${nonce}' 'strict-dynamic'${options.dev ? " 'unsafe-eval'" : ""}`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "worker-src 'self' blob:",
    "manifest-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    ...(options.secure ? ["upgrade-insecure-requests"] : []),
  ].join("; ");
}

/** Browsers keep to HTTPS for a year once they have seen this over HTTPS (only when cookies are Secure). */
export const HSTS = "max-age=31536000; includeSubDomains";

/** A fresh, unguessable nonce for one page view. */
export function newNonce(): string {
  const bytes = new Uint8Array(18);
  crypto.getRandomValues(bytes);
  return Buffer.from(bytes).toString("base64");
}

/** Sets the API's runtime headers (and the base ones, for answers made outside Next, e.g. in tests) on `response`. */
export function withApiHeaders(response: Response, options: { secure: boolean }): Response {
  const headers = new Headers(response.headers);
  for (const [name, value] of Object.entries(BASE_HEADERS)) headers.set(name, value);
  headers.set("content-security-policy", API_CSP);
  if (options.secure) headers.set("strict-transport-security", HSTS);
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}
