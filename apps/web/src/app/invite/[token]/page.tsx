import type { Metadata } from "next";
import { Logo } from "@/components/logo";
import { currentUser } from "@/server/caller";
import { InviteView } from "./invite-view";

export const metadata: Metadata = { title: "Invitation" };

// An invitation link's page: open to anyone holding the link, signed in or not (a new user signs up from here and
// comes back). The token in the URL is the key; the page shows what it opens and lets a signed-in user accept.
export default async function InvitePage({ params }: { params: Promise<{ token: string }> }) {
  const { token } = await params;
  const me = await currentUser();
  return (
    <main className="auth-page">
      <div className="auth-brand">
        <Logo />
        <p className="auth-tagline">Build, run and watch streaming pipelines.</p>
      </div>
      <div className="auth-card">
        <InviteView token={token} signedInAs={me ? me.user.email : null} />
      </div>
    </main>
  );
}
