import { DestinationPolicy, readRunConnections } from "@sluice/nodes/destination-policy";
import type { ConnectionBundle } from "@sluice/nodes/runtime-contract";
import { openJson, SecretKeyError, type SecretKeys } from "@sluice/pipeline/control/secret-box";

/** A run's or a preview's connections, opened, and where they may go. */
export interface OpenedConnections {
  connections: ConnectionBundle;
  destinations: DestinationPolicy;
}

/** A connection bundle sealed with SLUICE_SECRET_KEY for `context` (a run's or a preview's). */
export interface SealedConnections {
  box: string;
  /** The worker's keys: the box names the one that sealed it, the current key or a previous one. */
  secretKey: SecretKeys;
  context: string;
}

/**
 * Opens the connections sealed with a run or a preview. They may go where the worker's policy allows (the default
 * policy when it has none), except to the endpoints sealed with them (the web app's own database). Without `sealed`:
 * no connections, the worker's policy as it is. Throws a SecretKeyError saying why when the box cannot be opened.
 */
export async function openSealedConnections(
  policy: DestinationPolicy | undefined,
  sealed: SealedConnections | undefined,
): Promise<OpenedConnections> {
  const destinations = policy ?? DestinationPolicy.fromSettings(undefined);
  if (!sealed) return { connections: {}, destinations };
  let payload: unknown;
  try {
    payload = await openJson<unknown>(sealed.secretKey, sealed.box, sealed.context);
  } catch (err) {
    if (!(err instanceof SecretKeyError)) throw err;
    throw new SecretKeyError(`cannot open the connections sealed for ${sealed.context}: ${err.message}`, {
      cause: err,
    });
  }
  const opened = readRunConnections<ConnectionBundle>(payload);
  return { connections: opened.connections, destinations: destinations.protecting(opened.protectedEndpoints) };
}
