import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { docsCommand } from "./commands/docs";
import { explainCommand } from "./commands/explain";
import { exprCommand } from "./commands/expr";
import { validateCommand } from "./commands/validate";
import { CommandError, EXIT, type Output, stdio, UsageError } from "./io";

const USAGE = `usage: sluice <command> [options]

commands:
  validate -f FILE [--json]   check a pipeline file (exit 0 valid, 1 invalid, 2 unreadable)
  explain -f FILE             print the physical plan of a pipeline file
  expr 'EXPRESSION' [--input JSON] [--schema JSON] [--json]
                              type-check an expression and evaluate it on a record (exit 0 ok, 1 wrong, 2 usage)
  docs [--check]              write docs/nodes from the node declarations (--check: fail when stale)
  run -f FILE [--workers N] [--param NAME=VALUE]... [--connections FILE] [--json]
                              run a pipeline headless on REDIS_URL; a bounded run exits 0 with per-node totals
  worker                      join the worker fleet on REDIS_URL and run pipeline tasks
  secrets status|rotate [--json]
                              count the stored secrets per key id, or re-seal them all under SLUICE_SECRET_KEY

pipelines as code (against a Sluice server; see docs/pipelines-as-code.md):
  login --url URL [--workspace ID] [--json]
                              store an API token (from standard input or SLUICE_TOKEN) for the commands below
  plan -f FILE|DIR [--json] [--detailed-exitcode]
                              show what apply would change, per pipeline
  apply -f FILE|DIR [--force] [--json]
                              create or update the pipelines the files describe (0 ok, 1 invalid, 3 conflict)
  export NAME [-o FILE] [--json]
                              print a pipeline as a file (with metadata.version, its base version)
  runs start|stop|status NAME [--param NAME=VALUE]... [--json]
                              start, stop or show the latest run of a pipeline
  templates list [--search TEXT] [--tag TAG] [--connector TYPE] [--scope SCOPE] [--json]
                              list the templates you can start a pipeline from
  templates use TEMPLATE --name NAME [--param NAME=VALUE]... [--connection SLOT=CONNECTION]... [--sample]
                              make a pipeline from a template (by id, name or share link) with your values

FILE may be - for standard input. Run a command with --help for its options.`;

const SERVER = `The server is SLUICE_URL with the token SLUICE_TOKEN (and the workspace SLUICE_WORKSPACE) when they are
set, else what sluice login stored in $XDG_CONFIG_HOME/sluice/config.json (~/.config when unset).`;

const REMOTE_EXIT = `exit status: 0 done (or nothing to change), 1 an invalid file or a refusal by the server (named), 2 a
file that cannot be read, a wrong call, not logged in or the server cannot be reached, 3 conflict: the server's
pipeline moved since the file's base version (nothing was applied)`;

const HELP: Record<string, string> = {
  validate: `usage: sluice validate -f FILE [--json]

Checks a pipeline file (YAML, or JSON when the name ends in .json; - reads standard input): structure, node
types, config, edges, cycles, inferred schemas and expressions. Issues are printed one per line as
FILE: node <id> <path>: <message>.

options:
  -f, --file FILE   the pipeline file, or - for standard input
  --json            print {file, valid, issues} as JSON instead

exit status: 0 valid (warnings allowed), 1 invalid, 2 unreadable file or wrong call`,
  explain: `usage: sluice explain -f FILE

Validates a pipeline file and prints its physical plan: the stages, their partitions and the delivery guarantee
the run will really have (and why, when it is weaker than requested).

options:
  -f, --file FILE   the pipeline file, or - for standard input

exit status: 0 planned, 1 invalid, 2 unreadable file or wrong call`,
  expr: `usage: sluice expr 'EXPRESSION' [--input JSON] [--schema JSON] [--param NAME=VALUE]... [--json]

Type-checks one SQL expression and prints its type; with --input, evaluates it on that record and prints the
value (an expression that reads no fields is evaluated anyway). Errors are printed with their line:column and
the expression underlined. An expression that starts with "-" goes last, after --:
sluice expr --input '{"x": 1}' -- '-x'.

options:
  --input JSON        one record, a JSON object: {"amount": 120.5, "country": "DE"}
  --schema JSON       field types: {"amount": "float", "country": "string?", "tags": "array<string>"}
                      (? marks a nullable field; types: string int float boolean timestamp json any array<T>).
                      Without it the types are read off the --input values, or, with no input, any field
                      is allowed and typed any.
  --param NAME=VALUE  a value for {{NAME}}; a JSON number or boolean is typed so, anything else is text
  --json              print {type, nullable, value?, errors} as JSON instead

exit status: 0 ok, 1 the expression is wrong or fails on the record, 2 bad options or --input`,
  docs: `usage: sluice docs [--check] [--dir DIR]

Writes the node reference (one Markdown file per node type and an index) from the node declarations.

options:
  --check     write nothing; exit 1 naming the stale files when DIR differs from what the code says
  --dir DIR   where the reference lives (default: docs/nodes in the repository)`,
  run: `usage: sluice run -f FILE [--workers N] [--param NAME=VALUE]... [--connections FILE] [--json]

Runs a pipeline without the web app: validates the file, starts N workers in this process against REDIS_URL
(default redis://127.0.0.1:6379; --workers 0 leaves the work to \`sluice worker\` processes already running
there), starts the run and shows per-node counts (with a progress bar for bounded sources on a terminal).
A bounded run ends by itself: the command prints per-node totals and exits 0. Ctrl-C stops the run — what is
in flight is drained and committed — and exits 130; a second Ctrl-C leaves at once.

options:
  -f, --file FILE       the pipeline file, or - for standard input
  --workers N           workers to start in this process (default 1)
  --param NAME=VALUE    a parameter value, read as the type the pipeline declares for NAME (repeatable)
  --connections FILE    the connections the pipeline names, in YAML or JSON, one entry per name:
                          warehouse: { type: postgres, host: db.internal, password: \${PG_PASSWORD} }
                        \${NAME} is replaced by the environment variable NAME (an error when it is not set).
                        They reach the workers encrypted with SLUICE_SECRET_KEY, which --workers 0 needs
                        (the key the fleet was started with); else with a key made for this run.
  --json                print the final run snapshot as JSON instead of the table
  --prefix PREFIX       Redis key prefix (default SLUICE_REDIS_PREFIX or "sluice")
  --ingest-port PORT    for a pipeline with a Webhook source: where this command serves its ingest endpoint,
                        POST /api/ingest/file-<pipeline name> (default 3002; 0: any free port). The token is
                        SLUICE_INGEST_TOKEN, or one made for the run; both are printed when the run starts
  --ingest-host HOST    the address it listens on (default 127.0.0.1)

exit status: 0 completed, 1 invalid pipeline or the run failed, 2 unreadable file, bad call or no Redis,
130 stopped by a signal`,
  worker: `usage: sluice worker

Joins the worker fleet on REDIS_URL and runs pipeline tasks until stopped by a signal.`,
  secrets: `usage: sluice secrets status|rotate [--json] [--batch-size N]

Rotates the secret key while the web app and the workers keep running. Give every process the new key as
SLUICE_SECRET_KEY and the old one in SLUICE_SECRET_KEY_PREVIOUS (comma-separated keys), then:

  status   counts the sealed values (connection secrets in DATABASE_URL; the connections of runs and of queued
           jobs in REDIS_URL) per key id, and names those no key given opens. Writes nothing.
  rotate   re-seals every value under SLUICE_SECRET_KEY, in batches, each only if it did not change meanwhile.
           Running it again is harmless; stopped half-way, it leaves every value openable.

When status finds every value under the current key, the old key can be removed from SLUICE_SECRET_KEY_PREVIOUS.
Only counts, key ids and names of connections, runs and jobs are printed, never a secret.
See docs/security.md, "Rotating the secret key".

options:
  --json            print the counts as JSON instead
  --batch-size N    values read and re-sealed at a time (default 100)
  --prefix PREFIX   Redis key prefix (default SLUICE_REDIS_PREFIX or "sluice")

exit status: 0 every value is under the current key (status) or was re-sealed (rotate), 1 some are not yet or
cannot be opened with the keys given, 2 bad configuration or a store that cannot be reached`,
  login: `usage: sluice login --url URL [--workspace ID] [--json]

Checks an API token (made under Settings → API tokens; scopes read and write for plan/apply/export, run for runs)
against the Sluice at URL and stores URL and token in $XDG_CONFIG_HOME/sluice/config.json, readable by you only
(0600). The token is read from SLUICE_TOKEN, else from standard input: echo "$TOKEN" | sluice login --url URL.
It is never printed. CI can skip login and set SLUICE_URL and SLUICE_TOKEN instead.

options:
  --url URL        the address of Sluice, e.g. https://sluice.example.com
  --workspace ID   the workspace to act in (default: the token's)
  --json           print {url, user, workspace, config} as JSON

exit status: 0 stored, 1 the server refused the token, 2 no token, a bad URL or the server cannot be reached`,
  plan: `usage: sluice plan -f FILE|DIR [-f ...] [--json] [--detailed-exitcode] [--force]

Reads pipeline files (a DIR: every *.yaml, *.yml and *.json below it, hidden folders skipped), validates them all,
and prints per pipeline (by metadata.name) what sluice apply would do: create, update (vN → vN+1) with the nodes
added (+), removed (-) and changed (~, with the config keys), the edges, settings, parameters, alerts and metadata
that change; no change; or conflict. Pipelines are compared by meaning: defaults count as written and ui blocks
(positions, notes) are not compared. A conflict is an update of a pipeline the server changed since the file's
metadata.version (versions written by sluice apply do not count). Nothing is changed.

options:
  -f, --file PATH        a pipeline file or a directory of them (repeatable)
  --json                 print {applied: false, pipelines: [{file, name, action, fromVersion, toVersion, diff}]}
  --detailed-exitcode    exit 4 when there are changes to apply
  --force                plan as apply --force would (no conflicts)

${SERVER}

${REMOTE_EXIT}, 4 changes to apply (with --detailed-exitcode)`,
  apply: `usage: sluice apply -f FILE|DIR [-f ...] [--force] [--json]

Makes the server's pipelines what the files say: creates the missing ones (named by metadata.name), saves one new
version of each that differs in meaning (ui blocks the file leaves out are kept from the server), and leaves the
others alone, so applying the same files twice changes nothing. It plans first and applies nothing when any file is
invalid or in conflict: the server saved a version after the file's metadata.version that sluice apply did not
write (someone edited it in the editor). The plan is printed either way. Files are never rewritten: sluice export
NAME -o FILE brings one up to date. Versions it saves are "Applied with sluice apply from FILE".

options:
  -f, --file PATH   a pipeline file or a directory of them (repeatable)
  --force           replace the server's version even when it moved since the file's base (no conflicts)
  --json            print {applied, pipelines: [{file, name, action, fromVersion, toVersion, diff}]}

${SERVER}

${REMOTE_EXIT}`,
  export: `usage: sluice export NAME [-o FILE] [--json]

Prints the latest version of the pipeline called NAME (its name in Sluice or its metadata.name) as a pipeline file:
keys in one fixed order, defaults written out, nothing volatile, and metadata.version: N, the version it is, which
sluice apply reads as the file's base. An unchanged pipeline exports to the same bytes.

options:
  -o, --output FILE   write the file here instead of standard output
  --json              write JSON instead of YAML

${SERVER}

${REMOTE_EXIT.replace(/, 3 conflict.*$/s, "")}`,
  runs: `usage: sluice runs start|stop|status NAME [--param NAME=VALUE]... [--json]

  start    starts a run of the pipeline's latest version (--param: a parameter value; repeatable)
  stop     stops its active run (nothing to do is not an error)
  status   shows its latest run: id, version, status and error

options:
  --param NAME=VALUE   a parameter value for start; true/false and numbers are sent as such
  --json               print the result as JSON

${SERVER}

${REMOTE_EXIT.replace(/, 3 conflict.*$/s, "")}`,
  templates: `usage: sluice templates list [--search TEXT] [--tag TAG] [--connector TYPE] [--scope SCOPE] [--json]
       sluice templates use TEMPLATE --name NAME [--param NAME=VALUE]... [--connection SLOT=CONNECTION]...
                            [--sample] [--version N] [--json]

  list   the templates you can use: built-in ones, this workspace's and your own, as a table of title, name, id,
         latest version, tags, connectors, uses and whether it can run on sample data
  use    makes a new pipeline called NAME from TEMPLATE with your values written in as its parameters' defaults, and
         prints its name and id. TEMPLATE is a template's id, its name (as list shows it; a name two templates share
         is refused with their ids), or a share link (https://…/share/TOKEN, or the TOKEN alone)

options for list:
  --search TEXT        words to look for in the title, name, description and tags
  --tag TAG            only templates with this tag
  --connector TYPE     only templates using this connection type, e.g. postgres
  --scope SCOPE        all (default), built-in, workspace or mine (those you published)
  --json               print the server's list items as JSON

options for use:
  --name NAME                   the new pipeline's name (required)
  --param NAME=VALUE            a parameter value, read as the type the template declares for NAME (repeatable)
  --connection SLOT=CONNECTION  the workspace connection (by name) for a connection slot (repeatable)
  --sample                      run on the template's generated sample data in place of its sources
  --version N                   the template version to use (default: the latest)
  --json                        print {pipelineId, name, template: {id, title, version}, sample} as JSON

A value the template cannot take is refused naming the parameter (parameter "NAME": why), by this command when it
reads the value as the declared type, else by the server; nothing is made then.

${SERVER}

exit status: 0 made (use) or listed, 1 a value or template the server refuses, a template that cannot be found or
a name that is ambiguous, 2 a wrong call, not logged in or the server cannot be reached`,
};

const REPO_ROOT = path.resolve(fileURLToPath(new URL("../../..", import.meta.url)));

function fileOption(values: { file?: string | undefined }): string {
  if (!values.file) throw new UsageError("name the pipeline file with -f FILE (or -f - for standard input)");
  return values.file;
}

/** A command's help, or the general usage for anything that is not a command. */
function helpFor(command: string | undefined): string {
  return command !== undefined && Object.hasOwn(HELP, command) ? (HELP[command] ?? USAGE) : USAGE;
}

/** The usage lines of a command and where its options are described; the whole usage for an unknown command. */
function shortUsage(command: string | undefined): string {
  const text = helpFor(command);
  return text === USAGE ? USAGE : `${text.split("\n\n")[0]}\nRun \`sluice ${command} --help\` for the options.`;
}

const help = { type: "boolean", short: "h" } as const;

async function readStdinText(): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write("API token (then Enter and Ctrl-D): ");
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

export async function main(
  argv: string[],
  io: Output = stdio,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<number> {
  const [command, ...rest] = argv;
  const showHelp = (name: string): number => {
    io.out(helpFor(name));
    return EXIT.ok;
  };
  try {
    switch (command) {
      case "validate": {
        const { values } = parseArgs({
          args: rest,
          options: { file: { type: "string", short: "f" }, json: { type: "boolean" }, help },
        });
        if (values.help) return showHelp(command);
        return await validateCommand(fileOption(values), values.json ?? false, io);
      }
      case "explain": {
        const { values } = parseArgs({ args: rest, options: { file: { type: "string", short: "f" }, help } });
        if (values.help) return showHelp(command);
        return await explainCommand(fileOption(values), io);
      }
      case "expr": {
        const { values, positionals } = parseArgs({
          args: rest,
          allowPositionals: true,
          options: {
            input: { type: "string" },
            schema: { type: "string" },
            param: { type: "string", multiple: true },
            json: { type: "boolean" },
            help,
          },
        });
        if (values.help) return showHelp(command);
        const [expression, ...extra] = positionals;
        if (expression === undefined)
          throw new UsageError("give the expression to check, e.g. sluice expr 'amount > 100'");
        if (extra.length > 0) {
          throw new UsageError(`expr takes one expression; quote it as one argument (got ${positionals.length})`);
        }
        return exprCommand(
          { expression, input: values.input, schema: values.schema, params: values.param, json: values.json ?? false },
          io,
        );
      }
      case "docs": {
        const { values } = parseArgs({
          args: rest,
          options: { check: { type: "boolean" }, dir: { type: "string" }, help },
        });
        if (values.help) return showHelp(command);
        return await docsCommand(values.dir ?? path.join(REPO_ROOT, "docs", "nodes"), values.check ?? false, io);
      }
      case "run": {
        const { values } = parseArgs({
          args: rest,
          options: {
            file: { type: "string", short: "f" },
            workers: { type: "string" },
            param: { type: "string", multiple: true },
            connections: { type: "string" },
            json: { type: "boolean" },
            prefix: { type: "string" },
            "ingest-port": { type: "string" },
            "ingest-host": { type: "string" },
            help,
          },
        });
        if (values.help) return showHelp(command);
        const ingestPort = values["ingest-port"] === undefined ? undefined : Number(values["ingest-port"]);
        if (ingestPort !== undefined && (!Number.isInteger(ingestPort) || ingestPort < 0 || ingestPort > 65535)) {
          throw new UsageError("--ingest-port takes a port number from 0 (any free one) to 65535");
        }
        const workers = values.workers === undefined ? 1 : Number(values.workers);
        if (!Number.isInteger(workers) || workers < 0 || workers > 64) {
          throw new UsageError("--workers takes a whole number from 0 to 64");
        }
        const { runCommand } = await import("./commands/run");
        return await runCommand(
          {
            file: fileOption(values),
            workers,
            params: values.param ?? [],
            json: values.json ?? false,
            redisUrl: process.env.REDIS_URL ?? "redis://127.0.0.1:6379",
            prefix: values.prefix ?? process.env.SLUICE_REDIS_PREFIX ?? "sluice",
            cluster: process.env.SLUICE_REDIS_CLUSTER === "true" || process.env.SLUICE_REDIS_CLUSTER === "1",
            connections: values.connections,
            env: process.env,
            ingest: { host: values["ingest-host"], port: ingestPort },
          },
          io,
        );
      }
      case "secrets": {
        const { values, positionals } = parseArgs({
          args: rest,
          allowPositionals: true,
          options: { json: { type: "boolean" }, "batch-size": { type: "string" }, prefix: { type: "string" }, help },
        });
        if (values.help) return showHelp(command);
        const [action, ...extra] = positionals;
        if ((action !== "status" && action !== "rotate") || extra.length > 0) {
          throw new UsageError("say what to do: sluice secrets status, or sluice secrets rotate");
        }
        const batchSize = values["batch-size"] === undefined ? 100 : Number(values["batch-size"]);
        if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000) {
          throw new UsageError("--batch-size takes a whole number from 1 to 10000");
        }
        const { secretsCommand } = await import("./commands/secrets");
        return await secretsCommand(
          { action, json: values.json ?? false, batchSize, prefix: values.prefix, env: process.env },
          io,
        );
      }
      case "login": {
        const { values } = parseArgs({
          args: rest,
          options: { url: { type: "string" }, workspace: { type: "string" }, json: { type: "boolean" }, help },
        });
        if (values.help) return showHelp(command);
        if (!values.url) throw new UsageError("give the address of Sluice with --url URL");
        const { loginCommand } = await import("./commands/login");
        return await loginCommand(
          { url: values.url, workspace: values.workspace, json: values.json ?? false, env, readStdin: readStdinText },
          io,
        );
      }
      case "plan":
      case "apply": {
        const { values } = parseArgs({
          args: rest,
          options: {
            file: { type: "string", short: "f", multiple: true },
            json: { type: "boolean" },
            force: { type: "boolean" },
            ...(command === "plan" ? { "detailed-exitcode": { type: "boolean" } } : {}),
            help,
          },
        });
        if (values.help) return showHelp(command);
        const paths = values.file ?? [];
        if (paths.length === 0) throw new UsageError("name the pipeline files with -f FILE or -f DIR");
        const { applyCommand, planCommand } = await import("./commands/apply");
        const options = {
          paths,
          json: values.json ?? false,
          force: values.force ?? false,
          detailedExitCode: (values as { "detailed-exitcode"?: boolean })["detailed-exitcode"] ?? false,
          env,
        };
        return await (command === "plan" ? planCommand(options, io) : applyCommand(options, io));
      }
      case "export": {
        const { values, positionals } = parseArgs({
          args: rest,
          allowPositionals: true,
          options: { output: { type: "string", short: "o" }, json: { type: "boolean" }, help },
        });
        if (values.help) return showHelp(command);
        const [name, ...extra] = positionals;
        if (name === undefined || extra.length > 0) throw new UsageError("name one pipeline: sluice export NAME");
        const { exportCommand } = await import("./commands/export");
        return await exportCommand({ name, output: values.output, json: values.json ?? false, env }, io);
      }
      case "runs": {
        const { values, positionals } = parseArgs({
          args: rest,
          allowPositionals: true,
          options: { param: { type: "string", multiple: true }, json: { type: "boolean" }, help },
        });
        if (values.help) return showHelp(command);
        const [action, name, ...extra] = positionals;
        if (
          (action !== "start" && action !== "stop" && action !== "status") ||
          name === undefined ||
          extra.length > 0
        ) {
          throw new UsageError("say what to do with which pipeline: sluice runs start|stop|status NAME");
        }
        const { runsCommand } = await import("./commands/runs");
        return await runsCommand({ action, name, params: values.param ?? [], json: values.json ?? false, env }, io);
      }
      case "templates": {
        const [action, ...args] = rest;
        if (action === "--help" || action === "-h") return showHelp(command);
        if (action === "list") {
          const { values, positionals } = parseArgs({
            args,
            allowPositionals: true,
            options: {
              search: { type: "string" },
              tag: { type: "string" },
              connector: { type: "string" },
              scope: { type: "string" },
              json: { type: "boolean" },
              help,
            },
          });
          if (values.help) return showHelp(command);
          if (positionals.length > 0) throw new UsageError("templates list takes no names; filter with --search TEXT");
          const scope = values.scope ?? "all";
          if (scope !== "all" && scope !== "built-in" && scope !== "workspace" && scope !== "mine") {
            throw new UsageError("--scope takes all, built-in, workspace or mine");
          }
          const { templatesListCommand } = await import("./commands/templates");
          return await templatesListCommand(
            {
              search: values.search,
              tag: values.tag,
              connector: values.connector,
              scope,
              json: values.json ?? false,
              env,
            },
            io,
          );
        }
        if (action === "use") {
          const { values, positionals } = parseArgs({
            args,
            allowPositionals: true,
            options: {
              name: { type: "string" },
              param: { type: "string", multiple: true },
              connection: { type: "string", multiple: true },
              sample: { type: "boolean" },
              version: { type: "string" },
              json: { type: "boolean" },
              help,
            },
          });
          if (values.help) return showHelp(command);
          const [template, ...extra] = positionals;
          if (!template || extra.length > 0) {
            throw new UsageError("name one template: sluice templates use TEMPLATE --name NAME");
          }
          if (!values.name?.trim()) throw new UsageError("give the new pipeline a name with --name NAME");
          const version = values.version === undefined ? undefined : Number(values.version);
          if (version !== undefined && (!Number.isInteger(version) || version < 1)) {
            throw new UsageError("--version takes a template version number: 1, 2, …");
          }
          const { templatesUseCommand } = await import("./commands/templates");
          return await templatesUseCommand(
            {
              template,
              name: values.name,
              params: values.param ?? [],
              connections: values.connection ?? [],
              sample: values.sample ?? false,
              version,
              json: values.json ?? false,
              env,
            },
            io,
          );
        }
        throw new UsageError("say what to do: sluice templates list, or sluice templates use TEMPLATE --name NAME");
      }
      case "worker": {
        const { values } = parseArgs({ args: rest, options: { help } });
        if (values.help) return showHelp(command);
        const { runWorker } = await import("@sluice/worker/main");
        await runWorker();
        return await new Promise<number>(() => {}); // runs until a signal ends the process
      }
      case undefined:
      case "help":
      case "--help":
      case "-h":
        io.out(USAGE);
        return command === undefined ? EXIT.unreadable : EXIT.ok;
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (err) {
    if (err instanceof CommandError) {
      io.err(`sluice: ${err.message}`);
      return err.exit;
    }
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
      io.err(`sluice: ${(err as Error).message}\n\n${shortUsage(command)}`);
      return EXIT.unreadable;
    }
    throw err;
  }
}
