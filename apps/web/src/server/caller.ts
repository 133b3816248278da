// Server-only: calls the API in-process from server components, with the visitor's cookies.
import { createRequestContext } from "@sluice/api/context";
import { createCaller } from "@sluice/api/root";
import { cookies, headers } from "next/headers";
import { cache } from "react";
import { WORKSPACE_COOKIE } from "@/lib/workspace-choice";
import { getDeps } from "./deps";

/** A tRPC caller acting as the current visitor; memoised per request. */
const serverCaller = cache(async () => {
  const incoming = new Headers(await headers());
  // Pages are for browser sessions: an API token sent to a page does not sign it in (tokens are for the API).
  incoming.delete("authorization");
  const req = new Request("http://sluice.internal/", { headers: incoming });
  return createCaller(await createRequestContext(getDeps(), req, new Headers()));
});

/** The signed-in user (and workspaces), or null. */
export const currentUser = cache(async () => (await serverCaller()).auth.me());

/**
 * The workspace the visitor works in: the one the workspace cookie names if they are still a member of it, else
 * their first (as the API picks when a request names none); null when signed out or in no workspace.
 */
export const currentWorkspace = cache(async () => {
  const me = await currentUser();
  if (!me) return null;
  const chosen = (await cookies()).get(WORKSPACE_COOKIE)?.value;
  return me.workspaces.find((w) => w.id === chosen) ?? me.workspaces[0] ?? null;
});
