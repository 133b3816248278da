"use client";

import type { AppRouter } from "@sluice/api/root";
import { QueryCache, QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { createTRPCClient, httpBatchLink, httpSubscriptionLink, retryLink, splitLink } from "@trpc/client";
import { createTRPCContext } from "@trpc/tanstack-react-query";
import { type ReactNode, useState } from "react";
import superjson from "superjson";
import { errorCode } from "@/lib/errors";
import { signInPath } from "@/lib/return-path";
import { MAX_BATCH_CALLS } from "@/trpc/limits";
import { reconnectDelayMs, retrySubscription } from "@/trpc/subscription-retry";

const trpcContext = createTRPCContext<AppRouter>();
const { TRPCProvider } = trpcContext;
export const { useTRPC, useTRPCClient } = trpcContext;

function makeQueryClient(): QueryClient {
  return new QueryClient({
    // A session that ended (signed out elsewhere, expired) sends the visitor to the sign-in page, which brings them
    // back to the page they were on.
    queryCache: new QueryCache({
      onError: (error) => {
        if (typeof window === "undefined" || errorCode(error) !== "UNAUTHORIZED") return;
        window.location.assign(signInPath(`${window.location.pathname}${window.location.search}`));
      },
    }),
    defaultOptions: {
      queries: {
        staleTime: 10_000,
        refetchOnWindowFocus: false,
        // Client errors (not found, forbidden, bad input) will not fix themselves by retrying.
        retry: (failures, error) => {
          const status = httpStatus(error);
          return failures < 2 && !(status !== undefined && status >= 400 && status < 500);
        },
      },
    },
  });
}

function httpStatus(error: unknown): number | undefined {
  return (error as { data?: { httpStatus?: number } | null } | null)?.data?.httpStatus ?? undefined;
}

let browserQueryClient: QueryClient | undefined;

function getQueryClient(): QueryClient {
  if (typeof window === "undefined") return makeQueryClient();
  browserQueryClient ??= makeQueryClient();
  return browserQueryClient;
}

const url = "/api/trpc";

export function TRPCReactProvider({ children }: { children: ReactNode }) {
  const queryClient = getQueryClient();
  const [trpcClient] = useState(() =>
    createTRPCClient<AppRouter>({
      links: [
        splitLink({
          condition: (op) => op.type === "subscription",
          // superjson on both sides, as the server's initTRPC: Dates arrive as Dates. A subscription whose stream
          // fails is opened again after a backoff, resuming after the last event it got (subscription-retry.ts).
          true: [
            retryLink({ retry: retrySubscription, retryDelayMs: reconnectDelayMs }),
            httpSubscriptionLink({ url, transformer: superjson }),
          ],
          // The server refuses bigger batches; the link splits at the same size.
          false: httpBatchLink({ url, maxItems: MAX_BATCH_CALLS, transformer: superjson }),
        }),
      ],
    }),
  );
  return (
    <QueryClientProvider client={queryClient}>
      <TRPCProvider trpcClient={trpcClient} queryClient={queryClient}>
        {children}
      </TRPCProvider>
    </QueryClientProvider>
  );
}
