// Server-only: calls the API in-process from server components, with the visitor's cookies.
import { createRequestContext } from "@sluice/api/context";
import { createCaller } from "@sluice/api/root";
import { headers } from "next/headers";
import { cache } from "react";
import { getDeps } from "./deps";

/** A tRPC caller acting as the current visitor; memoised per request. */
const serverCaller = cache(async () => {
  const incoming = await headers();
  const req = new Request("http://sluice.internal/", { headers: new Headers(incoming) });
  return createCaller(await createRequestContext(getDeps(), req, new Headers()));
});

/** The signed-in user (and workspaces), or null. */
export const currentUser = cache(async () => (await serverCaller()).auth.me());
