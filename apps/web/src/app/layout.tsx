import "@fontsource-variable/inter/wght.css";
import "@xyflow/react/dist/style.css";
import "./globals.css";
import type { Metadata, Viewport } from "next";
import { connection } from "next/server";
import type { ReactNode } from "react";
import { currentWorkspace } from "@/server/caller";
import { TRPCReactProvider } from "@/trpc/react";

export const metadata: Metadata = {
  title: { default: "Sluice", template: "%s · Sluice" },
  description: "Build, run and watch stateful stream-processing pipelines.",
};

export const viewport: Viewport = { themeColor: "#0f172a" };

export default async function RootLayout({ children }: { children: ReactNode }) {
  // Every page renders per request: its Content-Security-Policy nonce (proxy.ts) is new each time, and Next can put
  // it on the page's scripts only while rendering.
  await connection();
  const workspace = await currentWorkspace();
  return (
    <html lang="en">
      <body>
        <TRPCReactProvider workspaceId={workspace?.id ?? null}>{children}</TRPCReactProvider>
      </body>
    </html>
  );
}
