"use client";

import { useQuery } from "@tanstack/react-query";
import { ConnectionForm } from "@/app/(app)/connections/connection-form";
import { Dialog } from "@/components/dialog";
import { useTRPC } from "@/trpc/react";

// A connection made without leaving the form that needs one: the use form's connection slots offer it to admins, so
// a template whose slot has nothing to bind to can still be used in one go. The new connection fills the slot.
// The form that asks renders this dialog beside its own, never inside it: a form inside a form is no form, and
// React passes events up its own tree, so the inner submit or Escape would reach the outer dialog too.

export interface ConnectionRequest {
  /** The connection type the slot takes; any when undefined. */
  type: string | undefined;
  onCreated: (name: string) => void;
}

export function NewConnectionDialog({ request, onClose }: { request: ConnectionRequest | null; onClose: () => void }) {
  const trpc = useTRPC();
  const types = useQuery(
    trpc.connections.types.queryOptions(undefined, { enabled: request !== null, staleTime: 300_000 }),
  );
  const fitting = (types.data ?? []).filter((t) => request?.type === undefined || t.type === request.type);
  return (
    <Dialog open={request !== null} onClose={onClose} title="New connection">
      {types.error ? <p className="form-error">Could not load the connection types: {types.error.message}</p> : null}
      {types.data && fitting.length === 0 ? (
        <p className="form-error">This installation has no connection type “{request?.type}”.</p>
      ) : null}
      {request && fitting.length > 0 ? (
        <ConnectionForm types={fitting} connection={null} onClose={onClose} onCreated={request.onCreated} />
      ) : null}
    </Dialog>
  );
}
