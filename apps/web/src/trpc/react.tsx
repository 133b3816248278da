"use client";

import type { AppRouter } from "@sluice/api/root";
import { MutationCache, QueryCache, QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { createTRPCClient, httpBatchLink, httpSubscriptionLink, retryLink, splitLink } from "@trpc/client";
import { createTRPCContext } from "@trpc/tanstack-react-query";
import { createContext, type ReactNode, useContext, useState } from "react";
import superjson from "superjson";
import { errorCode } from "@/lib/errors";
import { signInPath } from "@/lib/return-path";
import { WORKSPACE_HEADER } from "@/lib/workspace-choice";
import { MAX_BATCH_CALLS } from "@/trpc/limits";
import { reconnectDelayMs, retrySubscription } from "@/trpc/subscription-retry";

const trpcContext = createTRPCContext<AppRouter>();
const { TRPCProvider } = trpcContext;
export const { useTRPC, useTRPCClient } = trpcContext;

function makeQueryClient(): QueryClient {
  // A refusal may mean the role changed or the membership ended since "who am I" was read: read it again, so the
  // controls (useWorkspaceRole) and the header say what the user is now.
  const onRefused = (error: unknown) => {
    if (typeof window !== "undefined" && errorCode(error) === "FORBIDDEN") {
      void client.invalidateQueries({ queryKey: [["auth", "me"]] });
    }
  };
  const client: QueryClient = new QueryClient({
    queryCache: new QueryCache({
      onError: (error) => {
        onRefused(error);
        // A session that ended (signed out elsewhere, expired) sends the visitor to the sign-in page, which brings
        // them back to the page they were on. Only for reads: a mutation's 401 is its form's to show (a wrong
        // password on the sign-in form is one).
        if (typeof window === "undefined" || errorCode(error) !== "UNAUTHORIZED") return;
        window.location.assign(signInPath(`${window.location.pathname}${window.location.search}`));
      },
    }),
    mutationCache: new MutationCache({ onError: onRefused }),
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
  return client;
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

const WorkspaceContext = createContext<string | null>(null);

/** The workspace this page addresses (chosen by the workspace cookie, checked by the server); null when none. */
export function useCurrentWorkspaceId(): string | null {
  return useContext(WorkspaceContext);
}

export function TRPCReactProvider({
  children,
  workspaceId,
}: {
  children: ReactNode;
  /** The workspace the server rendered the page for: every request names it (see lib/workspace-choice.ts). */
  workspaceId: string | null;
}) {
  const queryClient = getQueryClient();
  // The links read it at each request. It follows what the server renders (a sign-in renders the layout again), so
  // the header on the page and the workspace the API acts in are always the same one.
  const [addressed] = useState(() => ({ id: workspaceId }));
  addressed.id = workspaceId;
  const [trpcClient] = useState(() =>
    createTRPCClient<AppRouter>({
      links: [
        splitLink({
          condition: (op) => op.type === "subscription",
          // superjson on both sides, as the server's initTRPC: Dates arrive as Dates. A subscription whose stream
          // fails is opened again after a backoff, resuming after the last event it got (subscription-retry.ts).
          true: [
            retryLink({ retry: retrySubscription, retryDelayMs: reconnectDelayMs }),
            // An EventSource cannot send headers: the workspace goes in the subscription's connection parameters.
            httpSubscriptionLink({
              url,
              transformer: superjson,
              connectionParams: () => (addressed.id ? { workspace: addressed.id } : {}),
            }),
          ],
          // The server refuses bigger batches; the link splits at the same size.
          false: httpBatchLink({
            url,
            maxItems: MAX_BATCH_CALLS,
            transformer: superjson,
            headers: () => (addressed.id ? { [WORKSPACE_HEADER]: addressed.id } : {}),
          }),
        }),
      ],
    }),
  );
  return (
    <QueryClientProvider client={queryClient}>
      <TRPCProvider trpcClient={trpcClient} queryClient={queryClient}>
        <WorkspaceContext value={workspaceId}>{children}</WorkspaceContext>
      </TRPCProvider>
    </QueryClientProvider>
  );
}
