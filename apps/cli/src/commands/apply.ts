import { readdir, stat } from "node:fs/promises";
import path from "node:path";
import { catalog } from "@sluice/nodes/catalog";
import { PipelineDefinition } from "@sluice/pipeline/definition";
import { type DefinitionDiff, diffDefinitions, diffLines, isEmptyDiff } from "@sluice/pipeline/definition-diff";
import { hasErrors } from "@sluice/pipeline/issues";
import { withServerUi } from "@sluice/pipeline/pipeline-file";
import { validate } from "@sluice/pipeline/validate";
import { type Api, apiClient, asCommandError, type Env, refusalCode, resolveConfig } from "../api-client";
import { CommandError, EXIT, type Output, readPipelineFile } from "../io";
import { formatIssueLine } from "./validate";

// `sluice plan` and `sluice apply`: a directory of pipeline files as the wanted state of a workspace's pipelines.
//
// A file names its pipeline by `metadata.name` and records in `metadata.version` the server version it was exported
// from (its base). Pipelines are compared by meaning (definition-diff.ts: defaults count as written, `ui` blocks do
// not count), so applying the same files again changes nothing. An update is refused as a conflict when someone
// saved a version the file has not seen: the server's latest version must be the file's base, or a version `sluice
// apply` itself wrote (so files applied from CI stay in step without being rewritten). `--force` saves over it.

/** Versions `sluice apply` writes carry this message, so a later apply knows them as its own. */
const APPLY_MESSAGE = "Applied with sluice apply from";

type Action = "create" | "update" | "no-change" | "conflict";

interface PlannedFile {
  file: string;
  name: string;
  action: Action;
  /** The server's latest version (none for create). */
  fromVersion: number | null;
  /** The version apply makes or made (create: 1); the current one for no-change; null for a conflict. */
  toVersion: number | null;
  /** Why a conflict is one. */
  reason?: string;
  diff: DefinitionDiff | null;
  lines: string[];
  definition: PipelineDefinition;
  server: { id: string; definition: PipelineDefinition } | null;
}

export interface ApplyOptions {
  paths: string[];
  json: boolean;
  force: boolean;
  /** plan only: exit EXIT.changes when something would change. */
  detailedExitCode: boolean;
  env: Env;
}

const PIPELINE_FILE = /\.(ya?ml|json)$/i;

/** The pipeline files a path names: a file itself, or every *.yaml, *.yml and *.json under a directory, sorted. */
async function pipelineFiles(target: string): Promise<string[]> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(target);
  } catch {
    throw new CommandError(`${target}: no such file or directory`, EXIT.unreadable);
  }
  if (!info.isDirectory()) return [target];
  const entries = await readdir(target, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && PIPELINE_FILE.test(e.name))
    .map((e) => path.join(e.parentPath, e.name))
    .filter(
      (f) =>
        !path
          .relative(target, f)
          .split(path.sep)
          .some((part) => part.startsWith(".")),
    )
    .sort();
}

interface ReadFile {
  file: string;
  definition: PipelineDefinition;
  baseVersion: number | undefined;
}

/** Reads and validates every file; all problems of all files are reported before anything is sent. */
async function readFiles(paths: string[], io: Output): Promise<ReadFile[]> {
  const files = (await Promise.all(paths.map(pipelineFiles))).flat();
  if (files.length === 0)
    throw new CommandError(`${paths.join(", ")}: no pipeline files (*.yaml, *.yml, *.json)`, EXIT.unreadable);
  const read: ReadFile[] = [];
  let broken = 0;
  const byName = new Map<string, string>();
  for (const file of files) {
    const result = await readPipelineFile(file);
    if (!result.ok) {
      io.err(result.message);
      broken++;
      continue;
    }
    const { issues } = validate(result.value, catalog);
    if (hasErrors(issues)) {
      for (const issue of issues.filter((i) => i.severity === "error")) io.err(formatIssueLine(file, issue));
      broken++;
      continue;
    }
    const definition = PipelineDefinition.parse(result.value);
    const other = byName.get(definition.metadata.name);
    if (other) {
      io.err(
        `${file}: metadata.name: "${definition.metadata.name}" is also the name in ${other}; one file per pipeline`,
      );
      broken++;
      continue;
    }
    byName.set(definition.metadata.name, file);
    read.push({ file, definition, baseVersion: result.baseVersion });
  }
  if (broken > 0) {
    throw new CommandError(
      `${broken} of ${files.length} pipeline files cannot be applied; nothing was changed`,
      EXIT.invalid,
    );
  }
  return read;
}

/** The newest version `sluice apply` wrote, if any of the last 500 is one. */
async function lastAppliedVersion(api: Api, id: string): Promise<number | undefined> {
  const versions = await api.pipelines.versions.query({ id, limit: 500 });
  return versions.find((v) => v.message.startsWith(APPLY_MESSAGE))?.number;
}

async function planFile(api: Api, read: ReadFile, force: boolean): Promise<PlannedFile> {
  const { file, definition, baseVersion } = read;
  const name = definition.metadata.name;
  const server = await api.pipelines.byName.query({ name });
  if (!server) {
    return {
      file,
      name,
      action: "create",
      fromVersion: null,
      toVersion: 1,
      diff: null,
      lines: [`+ pipeline ${name}: ${definition.spec.nodes.length} nodes, ${definition.spec.edges.length} edges`],
      definition,
      server: null,
    };
  }
  const current = server.version.definition;
  const diff = diffDefinitions(current, definition);
  const lines = diffLines(diff, current, definition);
  const planned = { file, name, diff, lines, definition, server: { id: server.id, definition: current } };
  const latest = server.latestVersion;
  if (isEmptyDiff(diff)) return { ...planned, action: "no-change", fromVersion: latest, toVersion: latest };
  if (!force) {
    const applied = await lastAppliedVersion(api, server.id);
    const base = Math.max(baseVersion ?? 0, applied ?? 0);
    if (base !== latest) {
      const reason =
        base === 0
          ? `the server already has a pipeline called "${name}" (v${latest}) and the file has no metadata.version: export it with sluice export ${name}, or apply with --force to replace it`
          : `the server's pipeline is at v${latest}, saved after the v${base} this file is based on: export it again and merge, or apply with --force to replace it`;
      return { ...planned, action: "conflict", fromVersion: latest, toVersion: null, reason };
    }
  }
  return { ...planned, action: "update", fromVersion: latest, toVersion: latest + 1 };
}

function heading(p: PlannedFile): string {
  switch (p.action) {
    case "create":
      return `${p.name} (${p.file}): create`;
    case "update":
      return `${p.name} (${p.file}): update (v${p.fromVersion} → v${p.toVersion})`;
    case "no-change":
      return `${p.name} (${p.file}): no change (v${p.fromVersion})`;
    case "conflict":
      return `${p.name} (${p.file}): conflict (server at v${p.fromVersion}): ${p.reason}`;
  }
}

function report(planned: PlannedFile[], applied: boolean, options: ApplyOptions, io: Output): void {
  if (options.json) {
    io.out(
      JSON.stringify(
        {
          applied,
          pipelines: planned.map((p) => ({
            file: p.file,
            name: p.name,
            action: p.action,
            fromVersion: p.fromVersion,
            toVersion: p.toVersion,
            ...(p.reason ? { reason: p.reason } : {}),
            diff: p.diff,
          })),
        },
        null,
        2,
      ),
    );
    return;
  }
  for (const p of planned) {
    (p.action === "conflict" ? io.err : io.out)(heading(p));
    if (p.action !== "no-change")
      for (const line of p.lines) (p.action === "conflict" ? io.err : io.out)(`    ${line}`);
  }
  const count = (a: Action) => planned.filter((p) => p.action === a).length;
  const verb = applied ? "" : " to";
  io.out(
    `${applied ? "Applied" : "Plan"}: ${count("create")}${verb} create, ${count("update")}${verb} update, ${count("no-change")} unchanged, ${count("conflict")} in conflict`,
  );
}

/** Finds the server (before reading files: not being logged in is the first thing to say), then does the work. */
async function withServer<T>(
  options: ApplyOptions,
  what: string,
  io: Output,
  work: (api: Api, files: ReadFile[]) => Promise<T>,
): Promise<T> {
  const config = await resolveConfig(options.env);
  const files = await readFiles(options.paths, io);
  try {
    return await work(apiClient(config), files);
  } catch (err) {
    throw asCommandError(err, config, what);
  }
}

async function planAll(api: Api, files: ReadFile[], force: boolean): Promise<PlannedFile[]> {
  const planned: PlannedFile[] = [];
  for (const read of files) planned.push(await planFile(api, read, force));
  return planned;
}

export async function planCommand(options: ApplyOptions, io: Output): Promise<number> {
  const planned = await withServer(options, "plan", io, (api, files) => planAll(api, files, options.force));
  report(planned, false, options, io);
  if (planned.some((p) => p.action === "conflict")) return EXIT.conflict;
  const changes = planned.some((p) => p.action === "create" || p.action === "update");
  return changes && options.detailedExitCode ? EXIT.changes : EXIT.ok;
}

/**
 * Plans every file, and applies only when none is in conflict: a directory is applied whole or, when the server
 * moved under one of its pipelines, not at all (a save that races another is refused by the server and reported).
 */
export async function applyCommand(options: ApplyOptions, io: Output): Promise<number> {
  return withServer(options, "apply", io, async (api, files) => {
    const planned = await planAll(api, files, options.force);
    if (planned.some((p) => p.action === "conflict")) {
      report(planned, false, options, io);
      if (!options.json)
        io.err("Nothing was applied: resolve the conflicts, or apply with --force to replace the server's versions.");
      return EXIT.conflict;
    }
    let status: number = EXIT.ok;
    for (const p of planned) {
      const message = `${APPLY_MESSAGE} ${p.file}`.slice(0, 500); // a version message holds 500 characters
      try {
        if (p.action === "create") {
          await api.pipelines.create.mutate({
            name: p.name,
            description: p.definition.metadata.description ?? "",
            definition: p.definition,
            message,
          });
        } else if (p.action === "update" && p.server && p.fromVersion !== null) {
          const saved = await api.pipelines.saveVersion.mutate({
            id: p.server.id,
            baseVersion: p.fromVersion,
            definition: withServerUi(p.definition, p.server.definition),
            message,
          });
          p.toVersion = saved.number;
        }
      } catch (err) {
        if (refusalCode(err) !== "CONFLICT") throw err;
        p.action = "conflict";
        p.toVersion = null;
        p.reason = `someone saved the pipeline while this apply ran: ${(err as Error).message}`;
        status = EXIT.conflict;
      }
    }
    report(planned, true, options, io);
    return status;
  });
}
