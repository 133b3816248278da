import { headers } from "next/headers";
import { REQUEST_PATH_HEADER } from "@/server/request-path-header";

/** The path and query of the page being rendered (see request-path-header.ts). */
export async function requestPath(): Promise<string | null> {
  return (await headers()).get(REQUEST_PATH_HEADER);
}
