import { redirect } from "next/navigation";
import type { ReactNode } from "react";
import { Logo } from "@/components/logo";
import { safeReturnPath } from "@/lib/return-path";
import { currentUser } from "@/server/caller";
import { requestPath } from "@/server/request-path";

export default async function AuthLayout({ children }: { children: ReactNode }) {
  if (await currentUser()) {
    // Already signed in: straight on to where the sign-in would have led.
    const path = await requestPath();
    redirect(safeReturnPath(path ? new URL(path, "http://sluice.invalid").searchParams.get("next") : null));
  }
  return (
    <main className="auth-page">
      <div className="auth-brand">
        <Logo />
        <p className="auth-tagline">Build, run and watch streaming pipelines.</p>
      </div>
      <div className="auth-card">{children}</div>
    </main>
  );
}
