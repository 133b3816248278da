// Server-only: moves webhook ingest tokens made before API tokens from Redis into the database, once, when a web
// process starts (instrumentation.ts). Until it has run, such a token is refused; it takes a scan of Redis's keys.
import { importLegacyIngestTokens } from "@sluice/api/tokens/legacy-ingest-tokens";
import { getDeps } from "./deps";

export function importLegacyTokens(): void {
  const deps = getDeps();
  importLegacyIngestTokens(deps).then(
    (count) => {
      if (count > 0) deps.logger?.info("webhook ingest tokens moved to API tokens", { count });
    },
    (err: unknown) =>
      deps.logger?.error("moving webhook ingest tokens to API tokens failed; the next start tries again", { err }),
  );
}
