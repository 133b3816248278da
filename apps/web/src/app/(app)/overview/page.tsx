import type { Metadata } from "next";
import { OverviewHome } from "./overview-home";
import "./overview.css";

export const metadata: Metadata = { title: "Overview" };

export default function OverviewPage() {
  return <OverviewHome />;
}
