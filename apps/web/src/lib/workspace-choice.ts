// Which workspace this browser works in. The choice is a cookie rather than part of every URL: the app's pages
// (/pipelines/…, /runs/…) name objects by ids that are unique across workspaces, so a URL segment would only repeat
// what the object already says, and every link, bookmark and spec would change. A cookie survives reloads, reaches the
// server (which renders the header for it and checks it is still one of the user's workspaces) and is read once per
// page load: the tab then keeps sending that workspace in the `x-sluice-workspace` header, so switching in one tab
// does not pull the ground from under another until it reloads.

export const WORKSPACE_COOKIE = "sluice_workspace";

/** The header that names the workspace a tRPC request addresses (the API's WORKSPACE_HEADER, checked by a test). */
export const WORKSPACE_HEADER = "x-sluice-workspace";

const YEAR_SECONDS = 365 * 86_400;

/** Remembers `workspaceId` as this browser's workspace and loads `path` in it: a fresh page, with nothing cached. */
export function switchWorkspace(workspaceId: string, path = "/overview"): void {
  const secure = window.location.protocol === "https:" ? "; Secure" : "";
  // biome-ignore lint/suspicious/noDocumentCookie: one plain cookie; the Cookie Store API is not in every browser yet
  document.cookie = `${WORKSPACE_COOKIE}=${encodeURIComponent(workspaceId)}; Path=/; Max-Age=${YEAR_SECONDS}; SameSite=Lax${secure}`;
  window.location.assign(path);
}
