"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useTRPC } from "@/trpc/react";

export function SignOutButton() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const signOut = useMutation(
    trpc.auth.signOut.mutationOptions({
      onSettled: () => {
        // A full load, not a client navigation: nothing of the signed-in session stays in memory, and no
        // background refresh of the old page can land after the sign-in page (it once cut a navigation short).
        queryClient.clear();
        window.location.replace("/signin");
      },
    }),
  );
  return (
    <button
      type="button"
      className="button button-ghost button-small"
      onClick={() => signOut.mutate()}
      disabled={signOut.isPending}
    >
      Sign out
    </button>
  );
}
