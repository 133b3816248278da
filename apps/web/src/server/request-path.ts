import { headers } from "next/headers";

/** The path and query of the page being rendered, put on the request by proxy.ts. */
export const REQUEST_PATH_HEADER = "x-sluice-path";

export async function requestPath(): Promise<string | null> {
  return (await headers()).get(REQUEST_PATH_HEADER);
}
