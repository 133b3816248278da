import Link from "next/link";
import { Logo } from "@/components/logo";
import { currentUser } from "@/server/caller";
import { AppHeader } from "./app-header";

// An address with nothing at it: inside the app's frame for a signed-in user, with a way in for anyone else.
export default async function NotFound() {
  const me = await currentUser();
  const body = (
    <main className="page page-narrow">
      <h1 className="page-title">Page not found</h1>
      <p className="page-subtitle">There is nothing at this address.</p>
      <div className="page-actions">
        <Link href={me ? "/pipelines" : "/signin"} className="button button-primary">
          {me ? "Go to pipelines" : "Sign in"}
        </Link>
      </div>
    </main>
  );
  if (!me) {
    return (
      <div className="app-shell">
        <header className="app-header">
          <Link href="/" className="app-home" aria-label="Sluice home">
            <Logo small />
          </Link>
        </header>
        <div className="app-main">{body}</div>
      </div>
    );
  }
  return (
    <div className="app-shell">
      <AppHeader me={me} />
      <div className="app-main">{body}</div>
    </div>
  );
}
