import type { Metadata } from "next";
import { BackfillList } from "@/backfills/backfill-list";

export const metadata: Metadata = { title: "Backfills" };

export default function BackfillsPage() {
  return (
    <main className="page">
      <header className="page-header">
        <h1 className="page-title">Backfills</h1>
      </header>
      <p className="muted">Start one from a PostgreSQL sink node in the pipeline editor: “Backfill…”.</p>
      <BackfillList />
    </main>
  );
}
