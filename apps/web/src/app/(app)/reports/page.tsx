import type { Metadata } from "next";
import { ReportsView } from "@/reports/reports-view";

export const metadata: Metadata = { title: "Reports" };

// `?report=<id>` opens one report with its delivery history (the alert inbox links query alerts here).
export default async function ReportsPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const report = (await searchParams).report;
  return <ReportsView initialReport={(Array.isArray(report) ? report[0] : report) ?? null} />;
}
