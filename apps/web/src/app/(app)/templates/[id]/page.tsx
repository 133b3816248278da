import type { Metadata } from "next";
import { TemplateDetails } from "@/templates/template-details";

export const metadata: Metadata = { title: "Template" };

export default async function TemplatePage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  return <TemplateDetails id={id} />;
}
