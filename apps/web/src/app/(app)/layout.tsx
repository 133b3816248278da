import Link from "next/link";
import { redirect } from "next/navigation";
import type { ReactNode } from "react";
import { Logo } from "@/components/logo";
import { MainNav } from "@/components/main-nav";
import { SignOutButton } from "@/components/sign-out-button";
import { currentUser } from "@/server/caller";
import "@/panels/panels.css";

// Every page in this group needs a signed-in user: the check happens here, on the server, before anything renders.
export default async function AppLayout({ children }: { children: ReactNode }) {
  const me = await currentUser();
  if (!me) redirect("/signin");
  const workspace = me.workspaces[0];
  return (
    <div className="app-shell">
      <header className="app-header">
        <Link href="/pipelines" className="app-home" aria-label="Sluice home">
          <Logo small />
        </Link>
        <MainNav />
        <div className="app-user">
          {workspace ? <span className="app-workspace">{workspace.name}</span> : null}
          <span className="app-user-name" data-testid="user-name">
            {me.user.name}
          </span>
          <SignOutButton />
        </div>
      </header>
      <div className="app-main">{children}</div>
    </div>
  );
}
