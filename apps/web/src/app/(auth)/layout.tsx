import { redirect } from "next/navigation";
import type { ReactNode } from "react";
import { Logo } from "@/components/logo";
import { currentUser } from "@/server/caller";

export default async function AuthLayout({ children }: { children: ReactNode }) {
  if (await currentUser()) redirect("/pipelines");
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
