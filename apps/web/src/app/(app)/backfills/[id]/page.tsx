import type { Metadata } from "next";
import Link from "next/link";
import { BackfillDetails } from "@/backfills/backfill-details";

export const metadata: Metadata = { title: "Backfill" };

export default async function BackfillPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  return (
    <main className="page">
      <header className="page-header">
        <h1 className="page-title">Backfill</h1>
        <Link href="/backfills" className="button button-ghost">
          All backfills
        </Link>
      </header>
      <BackfillDetails id={id} />
    </main>
  );
}
