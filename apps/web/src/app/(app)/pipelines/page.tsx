import type { Metadata } from "next";
import { PipelineList } from "./pipeline-list";

export const metadata: Metadata = { title: "Pipelines" };

export default function PipelinesPage() {
  return <PipelineList />;
}
