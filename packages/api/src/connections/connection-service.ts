import type { Db } from "@sluice/db/client";
import type { Prisma } from "@sluice/db/generated/prisma/client";
import { configJsonSchema } from "@sluice/pipeline/config-schema";
import {
  type AnyConnectionTypeDefinition,
  type ConnectionCatalog,
  secretFields,
} from "@sluice/pipeline/connection-definition";
import type { SecretKeys } from "@sluice/pipeline/control/secret-box";
import { secretScrubber } from "@sluice/pipeline/control/secret-scrub";
import type { NodeCatalog } from "@sluice/pipeline/node-definition";
import { closestName } from "@sluice/pipeline/suggest";
import { TRPCError } from "@trpc/server";
import type { z } from "zod";
import type { Actor } from "../pipelines/pipeline-service";
import { fieldError } from "../schedules/field-error";
import type {
  ConnectionTypeView,
  ConnectionUse,
  ConnectionView,
  CreateConnectionInput,
  DeleteConnectionInput,
  UpdateConnectionInput,
} from "./connection-router.types";
import {
  mergeSecrets,
  openSecrets,
  parseConfig,
  requireKey,
  type SecretValues,
  sealSecrets,
  splitConfig,
} from "./connection-secrets";
import { connectionUsage, describeUses } from "./connection-usage";

// Connections of a workspace: named, typed settings that pipelines refer to by name. The non-secret settings are
// stored as JSON; the secret ones sealed (see connection-secrets.ts). Nothing here ever returns a secret value.

export interface ConnectionDeps {
  db: Db;
  /** SLUICE_SECRET_KEY (and the previous keys); without it only connections without secrets can be stored. */
  secretKey: SecretKeys | undefined;
  /** Node types, to find which pipelines name a connection. */
  catalog: NodeCatalog;
  connectionTypes: ConnectionCatalog;
}

export interface ConnectionRow {
  id: string;
  workspaceId: string;
  name: string;
  type: string;
  config: Prisma.JsonValue;
  secrets: Uint8Array | null;
  secretFields: string[];
  createdAt: Date;
  updatedAt: Date;
}

/** The connection type named `type`, or BAD_REQUEST on the `type` field with the closest known one. */
export function connectionType(types: ConnectionCatalog, type: string): AnyConnectionTypeDefinition {
  const def = types.get(type);
  if (def) return def;
  const known = types.list().map((d) => d.type);
  const suggestion = closestName(type, known);
  throw fieldError(
    "type",
    `unknown connection type "${type}"${suggestion ? ` (did you mean "${suggestion}"?)` : ""}; this installation knows ${known.length > 0 ? known.join(", ") : "none"}`,
    type,
  );
}

export function plainConfig(row: Pick<ConnectionRow, "config">): Record<string, unknown> {
  const c = row.config;
  return c !== null && typeof c === "object" && !Array.isArray(c) ? { ...(c as Record<string, unknown>) } : {};
}

function toView(row: ConnectionRow, types: ConnectionCatalog, usedBy: ConnectionUse[]): ConnectionView {
  const def = types.get(row.type);
  const names = def ? secretFields(def) : [];
  const config = plainConfig(row);
  // A field the type has since declared secret is never shown, even if an old row holds it in clear.
  for (const name of names) delete config[name];
  const secrets: Record<string, boolean> = {};
  for (const name of new Set([...names, ...row.secretFields])) secrets[name] = row.secretFields.includes(name);
  return {
    id: row.id,
    name: row.name,
    type: row.type,
    knownType: def !== undefined,
    config,
    secrets,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    usedBy,
  };
}

export async function findConnection(db: Db, workspaceId: string, id: string): Promise<ConnectionRow> {
  const row = await db.connection.findFirst({ where: { id, workspaceId } });
  if (!row) throw new TRPCError({ code: "NOT_FOUND", message: "no such connection in this workspace" });
  return row;
}

export async function listConnections(deps: ConnectionDeps, workspaceId: string): Promise<ConnectionView[]> {
  const [rows, usage] = await Promise.all([
    deps.db.connection.findMany({ where: { workspaceId }, orderBy: { name: "asc" } }),
    connectionUsage(deps.db, deps.catalog, workspaceId),
  ]);
  return rows.map((row) => toView(row, deps.connectionTypes, usage.get(row.name) ?? []));
}

export async function getConnection(deps: ConnectionDeps, workspaceId: string, id: string): Promise<ConnectionView> {
  const row = await findConnection(deps.db, workspaceId, id);
  const usage = await connectionUsage(deps.db, deps.catalog, workspaceId);
  return toView(row, deps.connectionTypes, usage.get(row.name) ?? []);
}

function nameTaken(name: string): TRPCError {
  return new TRPCError({ code: "CONFLICT", message: `name: a connection called "${name}" already exists` });
}

const isUniqueViolation = (err: unknown) => (err as { code?: string }).code === "P2002";

export async function createConnection(
  deps: ConnectionDeps,
  actor: Actor,
  input: z.output<typeof CreateConnectionInput>,
): Promise<{ id: string }> {
  const def = connectionType(deps.connectionTypes, input.type);
  const { plain, secrets: sent } = splitConfig(def, input.config);
  const secrets = mergeSecrets({}, sent);
  parseConfig(def, { ...plain, ...secrets }, secretScrubber(secrets));
  const key =
    Object.keys(secrets).length > 0
      ? requireKey(deps.secretKey, "the connection's secrets must be stored encrypted")
      : undefined;
  try {
    return await deps.db.$transaction(async (tx) => {
      const row = await tx.connection.create({
        data: {
          workspaceId: actor.workspaceId,
          name: input.name,
          type: def.type,
          config: plain as Prisma.InputJsonObject,
          secretFields: Object.keys(secrets),
        },
        select: { id: true },
      });
      // Sealed for the row's id, which exists only now.
      if (key)
        await tx.connection.update({
          where: { id: row.id },
          data: { secrets: await sealSecrets(key, row.id, secrets) },
        });
      return row;
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw nameTaken(input.name);
    throw err;
  }
}

export async function updateConnection(
  deps: ConnectionDeps,
  workspaceId: string,
  input: z.output<typeof UpdateConnectionInput>,
): Promise<ConnectionView> {
  const row = await findConnection(deps.db, workspaceId, input.id);
  const data: Prisma.ConnectionUpdateInput = {};
  if (input.name !== undefined && input.name !== row.name) {
    const uses = (await connectionUsage(deps.db, deps.catalog, workspaceId)).get(row.name) ?? [];
    if (uses.length > 0) {
      throw new TRPCError({
        code: "CONFLICT",
        message: `name: pipelines name this connection "${row.name}" (${describeUses(uses)}); change them to name another connection first, or create a new connection`,
      });
    }
    data.name = input.name;
  }
  if (input.config !== undefined) {
    const def = connectionType(deps.connectionTypes, row.type);
    const { plain, secrets: sent } = splitConfig(def, input.config);
    // The stored secrets are opened only when some of them are kept: replacing all of them needs no old key.
    const keeps = row.secretFields.some((f) => !Object.hasOwn(sent, f));
    const stored: SecretValues = keeps ? await openSecrets(deps.secretKey, row) : {};
    const secrets = mergeSecrets(stored, sent);
    parseConfig(def, { ...plain, ...secrets }, secretScrubber([stored, sent]));
    const names = Object.keys(secrets);
    data.config = plain as Prisma.InputJsonObject;
    data.secretFields = names;
    data.secrets =
      names.length > 0
        ? await sealSecrets(
            requireKey(deps.secretKey, "the connection's secrets must be stored encrypted"),
            row.id,
            secrets,
          )
        : null;
  }
  if (Object.keys(data).length > 0) {
    try {
      await deps.db.connection.update({ where: { id: row.id }, data });
    } catch (err) {
      if (isUniqueViolation(err)) throw nameTaken(input.name ?? row.name);
      throw err;
    }
  }
  return getConnection(deps, workspaceId, row.id);
}

export async function deleteConnection(
  deps: ConnectionDeps,
  workspaceId: string,
  input: z.output<typeof DeleteConnectionInput>,
): Promise<void> {
  const row = await findConnection(deps.db, workspaceId, input.id);
  if (!input.force) {
    const uses = (await connectionUsage(deps.db, deps.catalog, workspaceId)).get(row.name) ?? [];
    if (uses.length > 0) {
      throw new TRPCError({
        code: "PRECONDITION_FAILED",
        message: `pipelines use connection "${row.name}": ${describeUses(uses)}; change them first, or delete it anyway (force) and their next runs fail until it exists again`,
      });
    }
  }
  await deps.db.connection.delete({ where: { id: row.id } });
}

/** The connection types for the UI: what to show in the type picker and how to draw each form. */
export function listConnectionTypes(
  types: ConnectionCatalog,
  runtimes: { get(type: string): { discover?: unknown } | undefined },
): ConnectionTypeView[] {
  return types.list().map((def) => {
    const runtime = runtimes.get(def.type);
    return {
      type: def.type,
      title: def.title,
      icon: def.icon,
      summary: def.summary,
      docs: def.docs,
      configSchema: configJsonSchema(def),
      secretFields: secretFields(def),
      canTest: runtime !== undefined,
      canDiscover: typeof runtime?.discover === "function",
      examples: def.examples.map((e) => ({ title: e.title, config: e.config })),
    };
  });
}
