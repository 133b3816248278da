import { z } from "zod";

// Connections as the API shows them. Secret fields are write-only: inputs may carry them, no output schema has a
// place for their values (only whether each one is set), and `.output()` strips anything a service added by mistake.

export const ConnectionId = z.string().min(1).max(64);

/** Pipelines name connections in their config, so a name is a plain identifier. */
const ConnectionName = z
  .string()
  .trim()
  .min(1, "give the connection a name")
  .max(64)
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9_.-]*$/,
    "use letters, digits, '_', '.' and '-' (starting with a letter or digit), as pipelines name it",
  );

const ConnectionTypeId = z.string().min(1).max(64);

/** A connection's settings as the form sends them; which of them are secret is up to the connection type. */
const ConnectionConfigInput = z.record(z.string().max(100), z.unknown());

export const CreateConnectionInput = z.strictObject({
  name: ConnectionName,
  type: ConnectionTypeId,
  config: ConnectionConfigInput.default({}),
});

export const UpdateConnectionInput = z.strictObject({
  id: ConnectionId,
  /** Refused while a pipeline's latest version names the connection. */
  name: ConnectionName.optional(),
  /**
   * Every non-secret setting (those left out are removed). Secret fields: left out = keep the stored value,
   * null = clear it, a value = replace it.
   */
  config: ConnectionConfigInput.optional(),
});

export const DeleteConnectionInput = z.strictObject({
  id: ConnectionId,
  /** Delete even though pipelines name it (their next run will fail until it exists again). */
  force: z.boolean().default(false),
});

export const TestConnectionInput = z
  .strictObject({
    /** A saved connection: tested as stored, or with `draft`'s settings and its stored secrets where draft has none. */
    id: ConnectionId.optional(),
    /** Settings not saved yet (the form being edited); secret fields as in update. */
    draft: z.strictObject({ type: ConnectionTypeId, config: ConnectionConfigInput }).optional(),
  })
  .refine((i) => i.id !== undefined || i.draft !== undefined, {
    message: "give the id of a saved connection, a draft to test, or both",
  });

export const DiscoverConnectionInput = z.strictObject({
  id: ConnectionId,
  /** An object (table, stream, subject, queue) to describe and sample; without it, what the connection holds. */
  object: z.string().min(1).max(500).optional(),
  /** How many sample records of `object` to read. */
  sample: z.number().int().min(0).max(100).default(0),
});

export const ConnectionUse = z.object({
  pipelineId: z.string(),
  pipelineName: z.string(),
  /** Nodes of the pipeline's latest version that name the connection. */
  nodes: z.array(z.string()),
});
export type ConnectionUse = z.infer<typeof ConnectionUse>;

export const ConnectionView = z.object({
  id: z.string(),
  name: z.string(),
  type: z.string(),
  /** False when this installation no longer knows the connection's type. */
  knownType: z.boolean(),
  /** The non-secret settings. */
  config: z.record(z.string(), z.unknown()),
  /** Each secret field of the type: whether it has a value. Never the value. */
  secrets: z.record(z.string(), z.boolean()),
  createdAt: z.date(),
  updatedAt: z.date(),
  usedBy: z.array(ConnectionUse),
});
export type ConnectionView = z.infer<typeof ConnectionView>;

const ConnectionProblem = z.enum([
  "host-unreachable",
  "timeout",
  "auth-failed",
  "not-found",
  "tls",
  "permission",
  "misconfigured",
  "other",
]);

export const ConnectionTestView = z.object({
  ok: z.boolean(),
  /** Why it failed, for the UI to pick an icon and a hint; null when ok. */
  problem: ConnectionProblem.nullable(),
  /** A sentence a person understands (no secret is ever part of it). */
  message: z.string(),
  details: z.record(z.string(), z.unknown()).optional(),
  elapsedMs: z.number(),
});
export type ConnectionTestView = z.infer<typeof ConnectionTestView>;

export const DiscoveryView = z.object({
  objects: z.array(
    z.object({
      kind: z.string(),
      name: z.string(),
      fields: z.array(z.object({ name: z.string(), type: z.string(), nullable: z.boolean() })).optional(),
      rows: z.number().optional(),
    }),
  ),
  sample: z.array(z.record(z.string(), z.unknown())).optional(),
});
export type DiscoveryView = z.infer<typeof DiscoveryView>;

export const ConnectionTypeView = z.object({
  type: z.string(),
  title: z.string(),
  icon: z.string(),
  summary: z.string(),
  docs: z.string(),
  /** The config as JSON Schema (draft 2020-12, input side) with the UI hints; secret fields carry `secret: true`. */
  configSchema: z.record(z.string(), z.unknown()),
  secretFields: z.array(z.string()),
  /** Whether this installation can test / discover connections of the type. */
  canTest: z.boolean(),
  canDiscover: z.boolean(),
  examples: z.array(z.object({ title: z.string(), config: z.record(z.string(), z.unknown()) })),
});
export type ConnectionTypeView = z.infer<typeof ConnectionTypeView>;
