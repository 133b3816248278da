import type { Metadata } from "next";
import { PipelineDashboard } from "@/runs/pipeline-dashboard";

export const metadata: Metadata = { title: "Pipeline dashboard" };

// Signed-in users only: the (app) layout checks before this renders.
export default async function PipelineDashboardPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  return <PipelineDashboard pipelineId={id} />;
}
