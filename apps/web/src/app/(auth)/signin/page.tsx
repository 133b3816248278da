import type { Metadata } from "next";
import { safeReturnPath } from "@/lib/return-path";
import { AuthForm } from "../auth-form";

export const metadata: Metadata = { title: "Sign in" };

export default async function SignInPage({ searchParams }: { searchParams: Promise<{ next?: string | string[] }> }) {
  const { next } = await searchParams;
  return <AuthForm mode="signin" next={safeReturnPath(typeof next === "string" ? next : null)} />;
}
