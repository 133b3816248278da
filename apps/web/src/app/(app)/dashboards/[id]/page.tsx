import type { Metadata } from "next";
import { DashboardView } from "@/dashboards/dashboard-view";

export const metadata: Metadata = { title: "Dashboard" };

// The address may carry a time range for links (`?last=1h`, `?from=…&to=…`); the view reads it from the URL itself,
// so choosing another range replaces it without a trip to the server.
export default async function DashboardPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  return <DashboardView id={id} />;
}
