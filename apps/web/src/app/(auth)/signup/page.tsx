import type { Metadata } from "next";
import { safeReturnPath } from "@/lib/return-path";
import { AuthForm } from "../auth-form";

export const metadata: Metadata = { title: "Create your account" };

export default async function SignUpPage({ searchParams }: { searchParams: Promise<{ next?: string | string[] }> }) {
  const { next } = await searchParams;
  return <AuthForm mode="signup" next={safeReturnPath(typeof next === "string" ? next : null)} />;
}
