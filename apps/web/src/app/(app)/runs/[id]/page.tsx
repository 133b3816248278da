import type { Metadata } from "next";
import { RunDetails } from "./run-details";

export const metadata: Metadata = { title: "Run" };

export default async function RunPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  return <RunDetails runId={id} />;
}
