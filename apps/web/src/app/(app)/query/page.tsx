import type { Metadata } from "next";
import { readQueryUrl } from "@/queries/query-url";
import { QueryWorkbench } from "@/queries/query-workbench";

export const metadata: Metadata = { title: "Query" };

// The address is read here, on the server, so the editor starts with the linked SQL (a sink node's "Query this
// table" opens /query?source=…&sql=…) without a flash of an empty editor.
export default async function QueryPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  return <QueryWorkbench initial={readQueryUrl(await searchParams)} />;
}
