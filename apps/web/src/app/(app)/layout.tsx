import { redirect } from "next/navigation";
import type { ReactNode } from "react";
import { signInPath } from "@/lib/return-path";
import { currentUser } from "@/server/caller";
import { requestPath } from "@/server/request-path";
import { AppHeader } from "../app-header";
import "./pages.css";

// Every page in this group needs a signed-in user: the check happens here, on the server, before anything renders.
export default async function AppLayout({ children }: { children: ReactNode }) {
  const me = await currentUser();
  if (!me) redirect(signInPath(await requestPath()));
  return (
    <div className="app-shell">
      <AppHeader userName={me.user.name} workspaceName={me.workspaces[0]?.name} />
      <div className="app-main">{children}</div>
    </div>
  );
}
