import { apiClient, asCommandError, type Env, writeConfig } from "../api-client";
import { CommandError, EXIT, type Output } from "../io";

// `sluice login --url URL`: checks an API token against the server and stores both for the other commands. The token
// comes from SLUICE_TOKEN or standard input (never an argument, which other users can read in the process list).

export interface LoginOptions {
  url: string;
  workspace: string | undefined;
  json: boolean;
  env: Env;
  /** Standard input's text, read only when SLUICE_TOKEN is not set. */
  readStdin: () => Promise<string>;
}

export async function loginCommand(options: LoginOptions, io: Output): Promise<number> {
  let url: URL;
  try {
    url = new URL(options.url);
  } catch {
    throw new CommandError(
      `--url ${options.url}: not a URL; give the address of Sluice, e.g. https://sluice.example.com`,
      EXIT.unreadable,
    );
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new CommandError(`--url ${options.url}: use an http:// or https:// address`, EXIT.unreadable);
  }
  const token = (options.env.SLUICE_TOKEN || (await options.readStdin())).trim();
  if (!token)
    throw new CommandError("no token: pipe an API token to standard input, or set SLUICE_TOKEN", EXIT.unreadable);
  const config = {
    url: url.origin + url.pathname.replace(/\/+$/, ""),
    token,
    ...(options.workspace ? { workspace: options.workspace } : {}),
  };
  let me: Awaited<ReturnType<ReturnType<typeof apiClient>["auth"]["me"]["query"]>>;
  try {
    me = await apiClient(config).auth.me.query();
  } catch (err) {
    throw asCommandError(err, config, "login");
  }
  if (!me) throw new CommandError(`login: ${config.url} does not accept this token`, EXIT.invalid);
  const workspace = options.workspace ? me.workspaces.find((w) => w.id === options.workspace) : me.workspaces[0];
  if (!workspace) throw new CommandError(`login: this token cannot reach workspace ${options.workspace}`, EXIT.invalid);
  const file = await writeConfig(options.env, config);
  if (options.json) {
    io.out(JSON.stringify({ url: config.url, user: me.user.name, workspace: workspace, config: file }, null, 2));
  } else {
    io.out(
      `Logged in to ${config.url} as ${me.user.name} (workspace ${workspace.name}, ${workspace.role.toLowerCase()}); saved in ${file}`,
    );
  }
  return EXIT.ok;
}
