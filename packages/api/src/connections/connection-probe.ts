import type { ConnectionRuntimeRegistry } from "@sluice/nodes/connection-runtime";
import type { DestinationPolicy } from "@sluice/nodes/destination-policy";
import type { AnyConnectionTypeDefinition } from "@sluice/pipeline/connection-definition";
import { type SecretScrubber, secretScrubber } from "@sluice/pipeline/control/secret-scrub";
import { TRPCError } from "@trpc/server";
import type { z } from "zod";
import { fieldError } from "../schedules/field-error";
import type {
  ConnectionTestView,
  DiscoverConnectionInput,
  DiscoveryView,
  TestConnectionInput,
} from "./connection-router.types";
import { mergeSecrets, openSecrets, parseConfig, type SecretValues, splitConfig } from "./connection-secrets";
import { type ConnectionDeps, connectionType, findConnection, plainConfig } from "./connection-service";

// "Test connection" and discovery: the connection type's runtime talks to the real system from the API process,
// bounded by a deadline. What it says back is scrubbed of every secret it was given before it leaves the API.

export interface ProbeDeps extends ConnectionDeps {
  connectionRuntimes: ConnectionRuntimeRegistry;
  /** Every host a test or discovery connects to is resolved and checked by it (see destination-policy.ts). */
  destinations: DestinationPolicy;
}

const TEST_TIMEOUT_MS = 10_000;
const DISCOVER_TIMEOUT_MS = 30_000;

type Deadline<T> = { kind: "done"; value: T } | { kind: "error"; error: unknown } | { kind: "timeout" };

/** Runs `work`, giving up (and aborting its signal) after `ms` even if the runtime ignores the signal. */
async function withDeadline<T>(ms: number, work: (signal: AbortSignal) => Promise<T>): Promise<Deadline<T>> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<Deadline<T>>((resolve) => {
    timer = setTimeout(() => {
      controller.abort(new Error(`no answer within ${ms} ms`));
      resolve({ kind: "timeout" });
    }, ms);
  });
  const run = Promise.resolve()
    .then(() => work(controller.signal))
    .then(
      (value): Deadline<T> => ({ kind: "done", value }),
      (error: unknown): Deadline<T> => ({ kind: "error", error }),
    );
  try {
    return await Promise.race([run, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message || err.name : String(err);
}

interface Probed {
  def: AnyConnectionTypeDefinition;
  /** The whole config, secrets included, parsed by the type's schema (defaults applied). */
  config: Record<string, unknown>;
  scrub: SecretScrubber;
  /** The saved connection's name, for refusals; none for a draft of a new one. */
  name: string | undefined;
}

/** A saved connection, a draft, or a draft over a saved connection's secrets: its config, ready for the runtime. */
async function resolve(
  deps: ProbeDeps,
  workspaceId: string,
  input: { id?: string | undefined; draft?: { type: string; config: Record<string, unknown> } | undefined },
): Promise<Probed> {
  const row = input.id !== undefined ? await findConnection(deps.db, workspaceId, input.id) : undefined;
  if (input.draft) {
    const def = connectionType(deps.connectionTypes, input.draft.type);
    if (row && row.type !== def.type) {
      throw fieldError("draft.type", `connection "${row.name}" is a ${row.type} connection, not ${def.type}`, def.type);
    }
    const { plain, secrets: sent } = splitConfig(def, input.draft.config);
    const keeps = row?.secretFields.some((f) => !Object.hasOwn(sent, f)) ?? false;
    const stored: SecretValues = row && keeps ? await openSecrets(deps.secretKey, row) : {};
    const secrets = mergeSecrets(stored, sent);
    const scrub = secretScrubber([stored, sent]);
    return { def, config: parseConfig(def, { ...plain, ...secrets }, scrub), scrub, name: row?.name };
  }
  if (!row) throw new TRPCError({ code: "BAD_REQUEST", message: "give the id of a saved connection, or a draft" });
  const def = deps.connectionTypes.get(row.type);
  if (!def) {
    throw new TRPCError({
      code: "PRECONDITION_FAILED",
      message: `connection "${row.name}" is of type "${row.type}", which this installation does not know`,
    });
  }
  const stored = await openSecrets(deps.secretKey, row);
  const scrub = secretScrubber(stored);
  return { def, config: parseConfig(def, { ...plainConfig(row), ...stored }, scrub), scrub, name: row.name };
}

export async function testConnection(
  deps: ProbeDeps,
  workspaceId: string,
  input: z.output<typeof TestConnectionInput>,
  timeoutMs = TEST_TIMEOUT_MS,
): Promise<ConnectionTestView> {
  const { def, config, scrub, name } = await resolve(deps, workspaceId, input);
  const runtime = deps.connectionRuntimes.get(def.type);
  if (!runtime) {
    return {
      ok: false,
      problem: "other",
      message: `this installation cannot test ${def.title} connections`,
      elapsedMs: 0,
    };
  }
  const started = performance.now();
  const destinations = deps.destinations.for(name);
  const outcome = await withDeadline(timeoutMs, (signal) => runtime.test(config, signal, destinations));
  const elapsedMs = Math.round(performance.now() - started);
  if (outcome.kind === "timeout") {
    return {
      ok: false,
      problem: "timeout",
      message: `no answer within ${seconds(timeoutMs)}: the host may be unreachable, or a firewall drops the connection`,
      elapsedMs,
    };
  }
  if (outcome.kind === "error") {
    return {
      ok: false,
      problem: "other",
      message: scrub.text(`the test failed: ${errorText(outcome.error)}`),
      elapsedMs,
    };
  }
  const result = outcome.value;
  return result.ok
    ? {
        ok: true,
        problem: null,
        message: scrub.text(result.message),
        ...(result.details ? { details: scrub.value(result.details) } : {}),
        elapsedMs,
      }
    : { ok: false, problem: result.problem, message: scrub.text(result.message), elapsedMs };
}

export async function discoverConnection(
  deps: ProbeDeps,
  workspaceId: string,
  input: z.output<typeof DiscoverConnectionInput>,
  timeoutMs = DISCOVER_TIMEOUT_MS,
): Promise<DiscoveryView> {
  const { def, config, scrub, name } = await resolve(deps, workspaceId, { id: input.id });
  const runtime = deps.connectionRuntimes.get(def.type);
  if (!runtime?.discover) {
    throw new TRPCError({
      code: "BAD_REQUEST",
      message: `this installation cannot discover ${def.title} connections`,
    });
  }
  const request = { ...(input.object !== undefined ? { object: input.object } : {}), sample: input.sample };
  const discover = runtime.discover.bind(runtime);
  const destinations = deps.destinations.for(name);
  const outcome = await withDeadline(timeoutMs, (signal) => discover(config, request, signal, destinations));
  if (outcome.kind === "timeout") {
    // 4xx, as every answer about the user's own system is: a 5xx would say Sluice failed, and clients would retry.
    throw new TRPCError({ code: "TIMEOUT", message: `no answer within ${seconds(timeoutMs)}` });
  }
  if (outcome.kind === "error") {
    throw new TRPCError({
      code: "UNPROCESSABLE_CONTENT",
      message: scrub.text(`discovery failed: ${errorText(outcome.error)}`),
    });
  }
  const { objects, sample } = outcome.value;
  return scrub.value({
    objects,
    ...(sample !== undefined ? { sample: sample.slice(0, input.sample) } : {}),
  });
}
