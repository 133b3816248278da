import { apiClient, asCommandError, type Env, resolveConfig } from "../api-client";
import { CommandError, EXIT, type Output } from "../io";

// `sluice runs start|stop|status NAME`: the pipeline a file names, run from the command line (CI) through the API.

export interface RunsOptions {
  action: "start" | "stop" | "status";
  name: string;
  /** NAME=VALUE pairs for start; a JSON number or boolean is sent as one, anything else as text. */
  params: string[];
  json: boolean;
  env: Env;
}

function parameterValues(params: string[]): Record<string, string | number | boolean> {
  const values: Record<string, string | number | boolean> = {};
  for (const param of params) {
    const eq = param.indexOf("=");
    if (eq < 1) throw new CommandError(`--param ${param}: write NAME=VALUE`, EXIT.unreadable);
    const raw = param.slice(eq + 1);
    let value: string | number | boolean = raw;
    if (raw === "true" || raw === "false") value = raw === "true";
    else if (raw.trim() !== "" && Number.isFinite(Number(raw))) value = Number(raw);
    values[param.slice(0, eq)] = value;
  }
  return values;
}

export async function runsCommand(options: RunsOptions, io: Output): Promise<number> {
  const config = await resolveConfig(options.env);
  const api = apiClient(config);
  const { action, name } = options;
  const print = (json: unknown, text: string) => io.out(options.json ? JSON.stringify(json, null, 2) : text);
  try {
    const pipeline = await api.pipelines.byName.query({ name });
    if (!pipeline)
      throw new CommandError(`runs ${action}: no pipeline called "${name}" in this workspace`, EXIT.invalid);
    if (action === "start") {
      const run = await api.runs.start.mutate({ pipelineId: pipeline.id, parameters: parameterValues(options.params) });
      print(
        { pipeline: name, runId: run.id, version: run.version },
        `${name}: started run ${run.id} (v${run.version})`,
      );
      return EXIT.ok;
    }
    if (action === "stop") {
      const active = pipeline.activeRun;
      if (!active) {
        print({ pipeline: name, runId: null, status: null }, `${name}: no run is active; nothing to stop`);
        return EXIT.ok;
      }
      const { status } = await api.runs.stop.mutate({ runId: active.id });
      print({ pipeline: name, runId: active.id, status }, `${name}: run ${active.id} ${status.toLowerCase()}`);
      return EXIT.ok;
    }
    const [run] = await api.runs.list.query({ pipelineId: pipeline.id, limit: 1 });
    if (!run) {
      print({ pipeline: name, run: null }, `${name}: never run`);
      return EXIT.ok;
    }
    print(
      { pipeline: name, run },
      `${name}: run ${run.id} (v${run.version}) ${run.status.toLowerCase()}${run.error ? `: ${run.error}` : ""}`,
    );
    return EXIT.ok;
  } catch (err) {
    throw asCommandError(err, config, `runs ${action} ${name}`);
  }
}
