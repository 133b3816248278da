import type { Db } from "@sluice/db/client";
import { connectionsContext, type RunStartJob } from "@sluice/pipeline/control/protocol";
import type { PipelineDefinition } from "@sluice/pipeline/definition";
import { problemOf, type ValidationIssue } from "@sluice/pipeline/issues";
import type { NodeCatalog } from "@sluice/pipeline/node-definition";
import { ParameterError, type ParameterValue, resolveParameterValues } from "@sluice/pipeline/parameters";
import { validate } from "@sluice/pipeline/validate";
import { TRPCError } from "@trpc/server";
import {
  type RunConnectionDeps,
  type RunConnections,
  runConnectionBundle,
  runConnectionNames,
  sealConnections,
  workspaceConnectionTypes,
} from "../connections/run-connections";
import { ProblemList } from "../trpc";

// Whether a definition can start: the one check a run's start and the editor's "save and start" share, so neither
// records a run of, nor saves for a start, a definition with errors.

/** The run's parameter values, each checked against its declaration (and a slot's against `connections`), or BAD_REQUEST naming the parameter. */
export function resolveParameters(
  def: PipelineDefinition,
  given: Record<string, ParameterValue>,
  connections?: Readonly<Record<string, string>>,
): Record<string, ParameterValue> {
  try {
    return resolveParameterValues(def, given, connections);
  } catch (err) {
    if (err instanceof ParameterError) throw new TRPCError({ code: "BAD_REQUEST", message: err.message });
    throw err;
  }
}

/** Problems a refusal lists for a form to point at; a definition with more is fixed a page at a time. */
const LISTED_PROBLEMS = 50;

/**
 * BAD_REQUEST naming `what` has errors among `issues`: the first three as sentences in the message (then how many
 * more), and each of them, with its node and field, in the error's data (see ProblemList). `purpose` ends the
 * first sentence: what the errors stand in the way of.
 */
export function refuseErrors(issues: readonly ValidationIssue[], what: string, purpose = "before it can start"): void {
  const errors = issues.filter((i) => i.severity === "error");
  if (errors.length === 0) return;
  const problems = errors.slice(0, LISTED_PROBLEMS).map(problemOf);
  const shown = problems
    .slice(0, 3)
    .map((p) => p.message)
    .join(" ");
  const more = errors.length > 3 ? ` And ${errors.length - 3} more.` : "";
  throw new TRPCError({
    code: "BAD_REQUEST",
    message: `${what} has ${errors.length} problem${errors.length === 1 ? "" : "s"} to fix ${purpose}. ${shown}${more}`,
    cause: new ProblemList(problems),
  });
}

export interface Startable {
  definition: PipelineDefinition;
  configs: Record<string, unknown>;
  parameters: Record<string, ParameterValue>;
}

/**
 * The definition as a run would start it, or BAD_REQUEST naming each problem. Checked twice: its structure, then
 * with the run's parameter values bound (a value may break a config its default did not) and the workspace's
 * connections (each node's must exist now, with the type the node asks for).
 */
export async function checkStartable(
  deps: { db: Db; catalog: NodeCatalog },
  workspaceId: string,
  input: unknown,
  given: Record<string, ParameterValue>,
  what: string,
): Promise<Startable> {
  const structure = validate(input, deps.catalog);
  refuseErrors(structure.issues, what);
  const connections = await workspaceConnectionTypes(deps.db, workspaceId);
  const parameters = resolveParameters(structure.definition!, given, connections);
  const checked = validate(input, deps.catalog, { parameters, connections });
  refuseErrors(checked.issues, what);
  return { definition: checked.definition!, configs: checked.configs, parameters };
}

/**
 * The connections a startable definition's nodes use, read now: before the run is recorded, so a missing or
 * unreadable connection refuses the start without leaving a run behind.
 */
export function startConnections(
  deps: RunConnectionDeps & { catalog: NodeCatalog },
  workspaceId: string,
  checked: Startable,
): Promise<RunConnections | undefined> {
  return runConnectionBundle(deps, workspaceId, runConnectionNames(checked.definition, checked.configs, deps.catalog));
}

/** The fleet's start job for a recorded run; `generation` only for a run started again under its own id. */
export async function startJob(
  run: { id: string; pipelineId: string; workspaceId: string },
  checked: Startable,
  connections: RunConnections | undefined,
  generation?: number,
): Promise<RunStartJob> {
  return {
    v: 1,
    action: "start",
    runId: run.id,
    pipelineId: run.pipelineId,
    workspaceId: run.workspaceId,
    definition: checked.definition,
    parameters: checked.parameters,
    ...(generation === undefined ? {} : { generation }),
    ...(connections ? { connections: await sealConnections(connections, connectionsContext(run.id)) } : {}),
  };
}
