import { writeFile } from "node:fs/promises";
import { writePipelineText } from "@sluice/pipeline/file-format";
import { canonicalFileValue } from "@sluice/pipeline/pipeline-file";
import { apiClient, asCommandError, type Env, resolveConfig } from "../api-client";
import { CommandError, EXIT, type Output } from "../io";

// `sluice export NAME`: the pipeline's latest version as a pipeline file (pipeline-file.ts): keys in one fixed order,
// defaults written out, `metadata.version` the version exported. Exporting an unchanged pipeline gives the same bytes.

export interface ExportOptions {
  name: string;
  /** Write here instead of standard output. */
  output: string | undefined;
  json: boolean;
  env: Env;
}

export async function exportCommand(options: ExportOptions, io: Output): Promise<number> {
  const config = await resolveConfig(options.env);
  let pipeline: Awaited<ReturnType<ReturnType<typeof apiClient>["pipelines"]["byName"]["query"]>>;
  try {
    pipeline = await apiClient(config).pipelines.byName.query({ name: options.name });
  } catch (err) {
    throw asCommandError(err, config, `export ${options.name}`);
  }
  if (!pipeline) throw new CommandError(`export: no pipeline called "${options.name}" in this workspace`, EXIT.invalid);
  const value = canonicalFileValue(pipeline.version.definition, pipeline.latestVersion);
  const text = writePipelineText(value, options.json ? "json" : "yaml");
  if (options.output === undefined) {
    io.out(text);
    return EXIT.ok;
  }
  await writeFile(options.output, text);
  io.err(`${options.output}: ${pipeline.name} v${pipeline.latestVersion}`);
  return EXIT.ok;
}
