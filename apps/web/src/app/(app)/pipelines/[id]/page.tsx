import type { Metadata } from "next";
import { PipelineEditor } from "@/editor/pipeline-editor";

export const metadata: Metadata = { title: "Editor" };

export default async function PipelineEditorPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  return <PipelineEditor pipelineId={id} />;
}
