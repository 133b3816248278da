"use client";

import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { usePathname } from "next/navigation";
import { useTRPC } from "@/trpc/react";

const LINKS = [
  { href: "/overview", label: "Overview" },
  { href: "/pipelines", label: "Pipelines" },
  { href: "/templates", label: "Templates" },
  { href: "/query", label: "Query" },
  { href: "/dashboards", label: "Dashboards" },
  { href: "/reports", label: "Reports" },
  { href: "/runs", label: "Runs" },
  { href: "/alerts", label: "Alerts" },
  { href: "/connections", label: "Connections" },
  { href: "/fleet", label: "Fleet" },
] as const;

/** How often the header asks for the unread alert count; alerts are evaluated every 10 s. */
const UNREAD_REFRESH_MS = 15_000;

/** The workspace's unread alert notifications, as a bell on the Alerts link; nothing while there are none. */
function UnreadAlerts() {
  const trpc = useTRPC();
  const inbox = useQuery(
    trpc.alerts.inbox.queryOptions({ unreadOnly: true, limit: 1 }, { refetchInterval: UNREAD_REFRESH_MS }),
  );
  const unread = inbox.data?.unread ?? 0;
  if (unread === 0) return null;
  return (
    <span className="nav-badge" data-testid="unread-alerts">
      <span aria-hidden="true">🔔 {unread > 99 ? "99+" : unread}</span>
      <span className="visually-hidden"> ({unread} unread)</span>
    </span>
  );
}

/** The header's sections; the one the page belongs to is marked as current. */
export function MainNav() {
  const pathname = usePathname();
  return (
    <nav aria-label="Main" className="app-nav">
      {LINKS.map((link) => {
        const current = pathname === link.href || pathname.startsWith(`${link.href}/`);
        return (
          <Link
            key={link.href}
            href={link.href}
            aria-current={current ? "page" : undefined}
            className={current ? "is-current" : undefined}
          >
            {link.label}
            {link.href === "/alerts" ? <UnreadAlerts /> : null}
          </Link>
        );
      })}
    </nav>
  );
}
