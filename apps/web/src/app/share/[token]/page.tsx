import type { Metadata } from "next";
import Link from "next/link";
import { Logo } from "@/components/logo";
import { signInPath } from "@/lib/return-path";
import { currentUser } from "@/server/caller";
import { SharedView } from "@/templates/shared-view";

export const metadata: Metadata = { title: "Shared", robots: { index: false } };

// A share link's page: open to anyone holding the link, signed in or not. The token in the URL is the key; the page
// shows what it opens (a template, or a run's live view) and offers a signed-in user to use a shared template.
export default async function SharePage({ params }: { params: Promise<{ token: string }> }) {
  const { token } = await params;
  const me = await currentUser();
  return (
    <div className="share-shell">
      <header className="share-header">
        <Logo />
        {me ? (
          <Link href="/pipelines" className="share-header-link">
            Your pipelines
          </Link>
        ) : (
          <Link href={signInPath(`/share/${token}`)} className="share-header-link">
            Sign in
          </Link>
        )}
      </header>
      <SharedView token={token} signedIn={me !== null} />
    </div>
  );
}
