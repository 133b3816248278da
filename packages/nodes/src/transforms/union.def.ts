import { defineNode } from "@sluice/pipeline/node-definition";
import { emptySchema } from "@sluice/pipeline/record-schema";
import { z } from "zod";

const config = z.strictObject({});

export type UnionConfig = z.output<typeof config>;

export const unionDef = defineNode({
  type: "transform.union",
  version: 1,
  kind: "transform",
  title: "Union",
  category: "Transform",
  icon: "merge",
  summary: "Merges several streams into one.",
  docs: `Passes on every record from every edge connected to its input, unchanged, like SQL's \`UNION ALL\`
(duplicates are kept; use Dedupe to drop them). Records from different inputs interleave in no particular order;
records from one input keep their order within a partition.

The output schema merges the input schemas: every field of any input, nullable when some input lacks it, widened
when inputs disagree on its type (\`int\` and \`float\` give \`float\`; other disagreements give \`json\`). The output is
schemaless (open) if any input is. Records are not padded: a field that one input lacks is simply absent from its
records, and reads as NULL downstream.

Watermarks: the union's event-time progress is the minimum over its inputs, so a stalled input holds back windows
downstream until its idle timeout passes.`,
  inputs: [{ name: "in", multiple: true, doc: "any number of edges" }],
  outputs: [{ name: "out" }],
  config,
  examples: [{ title: "Merge two shops' orders", config: {} }],
  delivery: {},
  // The validator hands a multi-edge port the merged schema of its edges (mergeSchemas), which is the output.
  infer: (ctx) => ({ outputs: { out: ctx.inputs.in ?? emptySchema } }),
  summarize: () => "merge inputs",
});
