import { chmod, mkdir, readFile, rename, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { WORKSPACE_HEADER } from "@sluice/api/context";
import type { AppRouter } from "@sluice/api/root";
import { createTRPCClient, httpLink, TRPCClientError } from "@trpc/client";
import superjson from "superjson";
import { z } from "zod";
import { CommandError, EXIT } from "./io";

// How the commands that talk to a Sluice server (login, plan, apply, export, runs) find it: SLUICE_URL, SLUICE_TOKEN
// and SLUICE_WORKSPACE when set (CI), else what `sluice login` stored in $XDG_CONFIG_HOME/sluice/config.json (0600).
// The token is sent as `Authorization: Bearer` and never printed.

export type Env = Readonly<Record<string, string | undefined>>;

const StoredConfig = z.object({
  url: z.string().url(),
  token: z.string().min(1),
  workspace: z.string().min(1).optional(),
});
export type ServerConfig = z.infer<typeof StoredConfig>;

function configPath(env: Env): string {
  const base = env.XDG_CONFIG_HOME || path.join(env.HOME || os.homedir(), ".config");
  return path.join(base, "sluice", "config.json");
}

export async function writeConfig(env: Env, config: ServerConfig): Promise<string> {
  const file = configPath(env);
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const temp = `${file}.${process.pid}.tmp`;
  await writeFile(temp, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  await chmod(temp, 0o600); // the mode is only applied to new files; a stale temp file keeps its own
  await rename(temp, file);
  return file;
}

async function readConfig(env: Env): Promise<Partial<ServerConfig>> {
  const file = configPath(env);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return {};
    throw new CommandError(`${file}: ${(err as Error).message}`, EXIT.unreadable);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new CommandError(`${file}: not valid JSON; run sluice login again`, EXIT.unreadable);
  }
  const config = StoredConfig.safeParse(parsed);
  if (!config.success) throw new CommandError(`${file}: not a Sluice config; run sluice login again`, EXIT.unreadable);
  return config.data;
}

/** The server to talk to: the environment first, then the stored login. */
export async function resolveConfig(env: Env): Promise<ServerConfig> {
  const stored = await readConfig(env);
  const url = env.SLUICE_URL || stored.url;
  const token = env.SLUICE_TOKEN || stored.token;
  const workspace = env.SLUICE_WORKSPACE || stored.workspace;
  if (!url || !token) {
    throw new CommandError(
      "not logged in: run sluice login --url URL (the token on standard input), or set SLUICE_URL and SLUICE_TOKEN",
      EXIT.unreadable,
    );
  }
  return { url, token, ...(workspace ? { workspace } : {}) };
}

export type Api = ReturnType<typeof createTRPCClient<AppRouter>>;

export function apiClient(config: ServerConfig): Api {
  const headers: Record<string, string> = { authorization: `Bearer ${config.token}` };
  if (config.workspace) headers[WORKSPACE_HEADER] = config.workspace;
  return createTRPCClient<AppRouter>({
    links: [httpLink({ url: `${config.url.replace(/\/+$/, "")}/api/trpc`, transformer: superjson, headers })],
  });
}

/** The tRPC error code of a refusal, or undefined for anything else. */
export function refusalCode(err: unknown): string | undefined {
  return err instanceof TRPCClientError ? (err.data as { code?: string } | undefined)?.code : undefined;
}

/** A server's refusal or an unreachable server, as a CommandError with its exit code; anything else unchanged. */
export function asCommandError(err: unknown, config: ServerConfig, what: string): unknown {
  if (!(err instanceof TRPCClientError)) return err;
  const code = refusalCode(err);
  if (code === undefined) {
    return new CommandError(`${what}: cannot reach ${config.url} (${err.message})`, EXIT.unreadable);
  }
  return new CommandError(`${what}: ${err.message}`, code === "CONFLICT" ? EXIT.conflict : EXIT.invalid);
}
