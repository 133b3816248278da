import { redirect } from "next/navigation";
import type { ReactNode } from "react";
import { MembershipNotice } from "@/components/workspace-switcher";
import { signInPath } from "@/lib/return-path";
import { currentUser, currentWorkspace } from "@/server/caller";
import { requestPath } from "@/server/request-path";
import { AppHeader } from "../app-header";
import { NoWorkspace } from "./no-workspace";
import "./pages.css";

// Every page in this group needs a signed-in user: the check happens here, on the server, before anything renders.
// Someone who belongs to no workspace (they left or were removed from all of theirs) is offered to make one.
export default async function AppLayout({ children }: { children: ReactNode }) {
  const me = await currentUser();
  if (!me) redirect(signInPath(await requestPath()));
  const workspace = await currentWorkspace();
  return (
    <div className="app-shell">
      <AppHeader me={me} />
      <MembershipNotice me={me} />
      <div className="app-main">{workspace ? children : <NoWorkspace />}</div>
    </div>
  );
}
