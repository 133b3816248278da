import type { Metadata } from "next";
import { BackfillStart } from "@/backfills/backfill-start";

export const metadata: Metadata = { title: "New backfill" };

// Opened from a sink.postgres node's "Backfill…" (/backfills/new?pipeline=…&sink=…&version=…).
export default async function NewBackfillPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const params = await searchParams;
  const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v) ?? "";
  const version = Number(one(params.version));
  return (
    <main className="page">
      <header className="page-header">
        <h1 className="page-title">Backfill a table</h1>
      </header>
      <BackfillStart
        pipelineId={one(params.pipeline)}
        sinkNodeId={one(params.sink)}
        {...(Number.isInteger(version) && version > 0 ? { version } : {})}
      />
    </main>
  );
}
