import type { Metadata } from "next";
import { redirect } from "next/navigation";
import { PipelineEditor } from "@/editor/pipeline-editor";
import { signInPath } from "@/lib/return-path";
import { currentUser } from "@/server/caller";
import { requestPath } from "@/server/request-path";

export const metadata: Metadata = { title: "Editor" };

export default async function PipelineEditorPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  const me = await currentUser(); // the layout's, cached for the request
  if (!me) redirect(signInPath(await requestPath()));
  return <PipelineEditor pipelineId={id} userId={me.user.id} />;
}
