import Link from "next/link";
import { Logo } from "@/components/logo";
import { MainNav } from "@/components/main-nav";
import { SignOutButton } from "@/components/sign-out-button";

/** The signed-in app's header: home, the main sections, the workspace and the user. */
export function AppHeader({ userName, workspaceName }: { userName: string; workspaceName: string | undefined }) {
  return (
    <header className="app-header">
      <Link href="/overview" className="app-home" aria-label="Sluice home">
        <Logo small />
      </Link>
      <MainNav />
      <div className="app-user">
        {workspaceName ? <span className="app-workspace">{workspaceName}</span> : null}
        <span className="app-user-name" data-testid="user-name">
          {userName}
        </span>
        <SignOutButton />
      </div>
    </header>
  );
}
