import type { Metadata } from "next";
import { ConnectionList } from "./connection-list";

export const metadata: Metadata = { title: "Connections" };

export default function ConnectionsPage() {
  return <ConnectionList />;
}
