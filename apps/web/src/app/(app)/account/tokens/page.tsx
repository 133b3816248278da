import type { Metadata } from "next";
import { PersonalTokens } from "./personal-tokens";

export const metadata: Metadata = { title: "Your API tokens" };

export default function PersonalTokensPage() {
  return <PersonalTokens />;
}
