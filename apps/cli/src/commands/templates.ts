import type { AppRouter } from "@sluice/api/root";
import type { PipelineDefinition } from "@sluice/pipeline/definition";
import { ParameterError, type ParameterValue, parseParameterText } from "@sluice/pipeline/parameters";
import { createTRPCClient, httpLink } from "@trpc/client";
import superjson from "superjson";
import { type Api, apiClient, asCommandError, type Env, refusalCode, resolveConfig } from "../api-client";
import { CommandError, EXIT, type Output } from "../io";

// `sluice templates list|use`: the template gallery from the command line. `use` takes a template by id, by name (the
// `name` field) or by share link, reads `--param` text as the types the template version declares (as `sluice run
// --param` does), and leaves every other check to the API, whose refusal names the parameter.

export type TemplateScope = "all" | "built-in" | "workspace" | "mine";

export interface TemplatesListOptions {
  search: string | undefined;
  tag: string | undefined;
  connector: string | undefined;
  scope: TemplateScope;
  json: boolean;
  env: Env;
}

export interface TemplatesUseOptions {
  /** A template id, a template name, a share link or a share link's token. */
  template: string;
  /** The new pipeline's name. */
  name: string;
  /** NAME=VALUE, read as the type the template declares for NAME. */
  params: string[];
  /** SLOT=CONNECTION: one of the workspace's connections for a connection slot. */
  connections: string[];
  sample: boolean;
  /** The template version to use; the latest when undefined. */
  version: number | undefined;
  json: boolean;
  env: Env;
}

type TemplateListItem = Awaited<ReturnType<Api["templates"]["list"]["query"]>>[number];

/** The token of a share link: 32 random bytes, base64url (ShareToken in the API). */
const SHARE_TOKEN = /^[A-Za-z0-9_-]{43}$/;
/** A share link; a token cut short is still sent, for the server to say what is wrong with it. */
const SHARE_LINK = /\/share\/([^/?#\s]+)/;
/** The longest template id the API takes (TemplateId). */
const MAX_ID_LENGTH = 64;

function listTable(items: readonly TemplateListItem[]): string {
  const header = ["TITLE", "NAME", "ID", "VERSION", "TAGS", "CONNECTORS", "USES", "SAMPLE"];
  const rows = items.map((t) => [
    t.title,
    t.name,
    t.id,
    `v${t.latestVersion}`,
    t.tags.join(",") || "-",
    t.connectors.join(",") || "-",
    String(t.uses),
    t.hasSample ? "yes" : "no",
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === 6 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)].join("\n");
}

export async function templatesListCommand(options: TemplatesListOptions, io: Output): Promise<number> {
  const config = await resolveConfig(options.env);
  let items: TemplateListItem[];
  try {
    items = await apiClient(config).templates.list.query({
      scope: options.scope,
      ...(options.search !== undefined ? { search: options.search } : {}),
      ...(options.tag !== undefined ? { tag: options.tag } : {}),
      ...(options.connector !== undefined ? { connector: options.connector } : {}),
    });
  } catch (err) {
    throw asCommandError(err, config, "templates list");
  }
  if (options.json) io.out(JSON.stringify(items, null, 2));
  else io.out(items.length === 0 ? "No templates match." : listTable(items));
  return EXIT.ok;
}

/** Where a template comes from, and the definition of the version that will be used. */
interface ChosenTemplate {
  ref: { templateId: string } | { shareToken: string };
  id: string;
  title: string;
  version: number;
  definition: PipelineDefinition;
}

function shareTokenOf(text: string): string | undefined {
  return SHARE_LINK.exec(text)?.[1];
}

/** A client without the token: share links are read as anyone holding them would, which a token may not do. */
function anonymousClient(url: string) {
  return createTRPCClient<AppRouter>({
    links: [httpLink({ url: `${url.replace(/\/+$/, "")}/api/trpc`, transformer: superjson })],
  });
}

async function bySharedLink(url: string, token: string, version: number | undefined): Promise<ChosenTemplate> {
  const shared = await anonymousClient(url).shares.view.query({ token });
  if (shared.kind !== "template") {
    throw new CommandError("this share link opens a run, not a template", EXIT.invalid);
  }
  const t = shared.template;
  // A link shows the latest version only; another version's values are read by its types as far as they agree.
  return {
    ref: { shareToken: token },
    id: t.id,
    title: t.title,
    version: version ?? t.version,
    definition: t.definition,
  };
}

async function byId(api: Api, id: string, version: number | undefined): Promise<ChosenTemplate | undefined> {
  if (id.length > MAX_ID_LENGTH) return undefined;
  let t: Awaited<ReturnType<Api["templates"]["get"]["query"]>>;
  try {
    t = await api.templates.get.query({ id });
  } catch (err) {
    if (refusalCode(err) === "NOT_FOUND") return undefined;
    throw err;
  }
  if (version !== undefined && version !== t.version) t = await api.templates.get.query({ id, version });
  return { ref: { templateId: t.id }, id: t.id, title: t.title, version: t.version, definition: t.definition };
}

function where(t: TemplateListItem): string {
  if (t.builtIn) return "built in";
  return t.visibility === "PRIVATE" ? "yours" : "this workspace's";
}

async function chooseTemplate(
  api: Api,
  url: string,
  template: string,
  version: number | undefined,
): Promise<ChosenTemplate> {
  const linked = shareTokenOf(template);
  if (linked !== undefined) return bySharedLink(url, linked, version);
  const found = await byId(api, template, version);
  if (found) return found;
  const named = (await api.templates.list.query({ search: template.slice(0, 100), scope: "all" })).filter(
    (t) => t.name === template,
  );
  if (named.length > 1) {
    const candidates = named.map((t) => `${t.id} ("${t.title}", ${where(t)})`).join(", ");
    throw new CommandError(`"${template}" names ${named.length} templates: ${candidates}; give the id`, EXIT.invalid);
  }
  const [only] = named;
  if (only) {
    const chosen = await byId(api, only.id, version);
    if (chosen) return chosen;
  }
  if (SHARE_TOKEN.test(template)) return bySharedLink(url, template, version);
  throw new CommandError(
    `no template with the id or name "${template}" here; sluice templates list shows those you can use`,
    EXIT.invalid,
  );
}

function splitPair(option: string, text: string): [string, string] {
  const eq = text.indexOf("=");
  if (eq <= 0)
    throw new CommandError(
      `${option} ${text}: write ${option === "--param" ? "NAME=VALUE" : "SLOT=CONNECTION"}`,
      EXIT.unreadable,
    );
  return [text.slice(0, eq), text.slice(eq + 1)];
}

/**
 * The values to send: a declared parameter's text read as its type (a wrong value is refused here with the words
 * the API would use); a name the version does not declare is sent as written, for the API to refuse by name.
 */
function templateValues(
  definition: PipelineDefinition,
  params: readonly string[],
  connections: readonly string[],
): Record<string, ParameterValue> {
  const declared = new Map(definition.spec.parameters.map((p) => [p.name, p]));
  const values: Record<string, ParameterValue> = {};
  const read = (option: "--param" | "--connection", text: string) => {
    const [name, raw] = splitPair(option, text);
    const p = declared.get(name);
    if (option === "--connection" && p !== undefined && p.type !== "connection") {
      throw new CommandError(
        `--connection ${text}: "${name}" is a ${p.type} parameter, not a connection slot; give it with --param`,
        EXIT.invalid,
      );
    }
    if (p === undefined) {
      values[name] = raw;
      return;
    }
    try {
      const [, value] = parseParameterText(definition, text);
      values[name] = value;
    } catch (err) {
      if (err instanceof ParameterError) throw new CommandError(err.message, EXIT.invalid);
      throw err;
    }
  };
  for (const text of params) read("--param", text);
  for (const text of connections) read("--connection", text);
  return values;
}

export async function templatesUseCommand(options: TemplatesUseOptions, io: Output): Promise<number> {
  const config = await resolveConfig(options.env);
  const api = apiClient(config);
  const what = `templates use ${options.template}`;
  try {
    const chosen = await chooseTemplate(api, config.url, options.template, options.version);
    const values = templateValues(chosen.definition, options.params, options.connections);
    const made = await api.templates.use.mutate({
      ...chosen.ref,
      ...(options.version !== undefined ? { version: options.version } : {}),
      name: options.name,
      values,
      sample: options.sample,
    });
    if (options.json) {
      io.out(
        JSON.stringify(
          {
            ...made,
            template: { id: chosen.id, title: chosen.title, version: chosen.version },
            sample: options.sample,
          },
          null,
          2,
        ),
      );
    } else {
      const sample = options.sample ? " on sample data" : "";
      io.out(`${made.name} (${made.pipelineId}): made from "${chosen.title}" v${chosen.version}${sample}`);
    }
    return EXIT.ok;
  } catch (err) {
    if (err instanceof CommandError) throw new CommandError(`${what}: ${err.message}`, err.exit);
    throw asCommandError(err, config, what);
  }
}
