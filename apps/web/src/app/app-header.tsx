import type { Me } from "@sluice/api/auth/auth-router.types";
import Link from "next/link";
import { Logo } from "@/components/logo";
import { MainNav } from "@/components/main-nav";
import { SignOutButton } from "@/components/sign-out-button";
import { WorkspaceSwitcher } from "@/components/workspace-switcher";

/** The signed-in app's header: home, the main sections, the workspace (and the way to switch) and the user. */
export function AppHeader({ me }: { me: Me }) {
  return (
    <header className="app-header">
      <Link href="/overview" className="app-home" aria-label="Sluice home">
        <Logo small />
      </Link>
      <MainNav />
      <div className="app-user">
        <WorkspaceSwitcher me={me} />
        <span className="app-user-name" data-testid="user-name">
          {me.user.name}
        </span>
        <Link href="/account/tokens" className="app-user-link">
          API tokens
        </Link>
        <SignOutButton />
      </div>
    </header>
  );
}
