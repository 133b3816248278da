import { z } from "zod";
import { API_VERSION, PipelineDefinition, PipelineNode } from "./definition";

// A template as a file: how the built-in templates are kept in templates/*.yaml, and what a template version holds.
// The pipeline is an ordinary pipeline definition, parameters and connection slots included; beside it sit what the
// gallery shows (title, description, tags) and, for a template that can run without its real sources, a sample:
// for each source node, the node that stands in for it when the template is tried on generated data (usually a
// `source.generator` that writes records of the same shape). Nothing secret is ever in a template: connections are
// slots the user binds to their own.

/** Tags are short lower-case words, so "CDC" and "cdc" are one tag. */
export const TemplateTag = z
  .string()
  .min(1)
  .max(40)
  .regex(/^[a-z0-9][a-z0-9-]*$/, "tags are lower-case letters, digits and '-'");

/** A stand-in for one source node in sample mode: a node of its own type and config, under the source's id. */
export const SampleNode = PipelineNode.pick({ type: true, version: true, config: true });

export const TemplateSample = z.strictObject({
  /** What the sample data is, in a sentence the gallery shows ("one reading per sensor per second"). */
  description: z.string().max(2000).optional(),
  /** Source node id → the node that replaces it. */
  nodes: z.record(z.string(), SampleNode),
});

export const TemplateMetadata = z.strictObject({
  /** The template's stable name: built-in templates are found and updated by it. */
  name: PipelineDefinition.shape.metadata.shape.name,
  title: z.string().min(1).max(200),
  description: z.string().max(10_000).default(""),
  tags: z.array(TemplateTag).max(20).default([]),
});

export const TemplateFile = z
  .strictObject({
    apiVersion: z.literal(API_VERSION),
    kind: z.literal("Template"),
    metadata: TemplateMetadata,
    spec: z.strictObject({
      sample: TemplateSample.optional(),
      pipeline: PipelineDefinition,
    }),
  })
  .superRefine((file, ctx) => {
    const nodes = new Map(file.spec.pipeline.spec.nodes.map((n) => [n.id, n]));
    for (const id of Object.keys(file.spec.sample?.nodes ?? {})) {
      const node = nodes.get(id);
      if (!node) {
        ctx.addIssue({
          code: "custom",
          path: ["spec", "sample", "nodes", id],
          message: `the sample replaces node "${id}", which is not in the pipeline`,
        });
      } else if (!node.type.startsWith("source.")) {
        ctx.addIssue({
          code: "custom",
          path: ["spec", "sample", "nodes", id],
          message: `the sample replaces node "${id}" (${node.type}), which is not a source`,
        });
      }
    }
  });

export type TemplateFile = z.infer<typeof TemplateFile>;
export type TemplateSample = z.infer<typeof TemplateSample>;

/**
 * The pipeline with the sample's stand-ins in place of its sources: the same ids, edges and positions, so the graph
 * looks as it does with real data. Connection slots only the replaced sources used are dropped from the parameters.
 */
export function withSampleSources(pipeline: PipelineDefinition, sample: TemplateSample): PipelineDefinition {
  const nodes = pipeline.spec.nodes.map((n) => {
    const standIn = sample.nodes[n.id];
    return standIn ? { id: n.id, ...standIn, ...(n.ui ? { ui: n.ui } : {}) } : n;
  });
  const text = JSON.stringify(nodes);
  const parameters = pipeline.spec.parameters.filter(
    (p) => p.type !== "connection" || new RegExp(`\\{\\{\\s*${p.name}\\s*\\}\\}`).test(text),
  );
  return { ...pipeline, spec: { ...pipeline.spec, nodes, parameters } };
}
