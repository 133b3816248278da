// Where to go after signing in: the page that sent the user to sign in, carried as `?next=`. Only a path on this
// site is followed — anything that could leave it ("//evil.example", "https://…", "/\\evil.example") goes home.
// The check is made on the parsed path too: parsing removes dot segments, so "/.//evil.example" becomes
// "//evil.example", which a browser would read as another host.

const HOME = "/pipelines";
const BASE = "http://sluice.invalid";

/** `next` if it is a path of this site (with its query and fragment), else the home page. */
export function safeReturnPath(next: string | null | undefined): string {
  if (!next?.startsWith("/") || next.startsWith("//") || next.startsWith("/\\")) return HOME;
  // Browsers strip tabs and newlines from URLs, which could turn "/\t/evil" into "//evil".
  if ([...next].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f)) return HOME;
  let url: URL;
  try {
    url = new URL(next, BASE);
  } catch {
    return HOME;
  }
  if (url.origin !== BASE) return HOME;
  if (url.pathname.startsWith("//") || url.pathname.includes("\\")) return HOME;
  // Signing in again after signing in leads nowhere useful.
  if (url.pathname === "/signin" || url.pathname === "/signup") return HOME;
  return `${url.pathname}${url.search}${url.hash}`;
}

/** The sign-in page, asked to come back to `path` afterwards (home needs no asking). */
export function signInPath(path: string | null | undefined): string {
  const back = safeReturnPath(path);
  return back === HOME ? "/signin" : `/signin?next=${encodeURIComponent(back)}`;
}
