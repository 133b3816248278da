// Apart from request-path.ts, which needs next/headers: proxy.ts sets this header and must not import that.

/** The path and query of the page being rendered, put on the request by proxy.ts. */
export const REQUEST_PATH_HEADER = "x-sluice-path";
