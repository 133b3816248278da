import { z } from "zod";
import { createCatalog, defineNode } from "./node-definition";
import { field, t } from "./record-schema";

// A small catalog for the pipeline package's own tests, so they do not depend on the real node types.

export const testSource = defineNode({
  type: "source.numbers",
  version: 1,
  kind: "source",
  title: "Numbers",
  category: "Test",
  icon: "hash",
  summary: "test source",
  docs: "",
  inputs: [],
  outputs: [{ name: "out" }],
  config: z.strictObject({ count: z.number().int().min(1).default(10) }),
  examples: [],
  delivery: { replayable: true },
  infer: () => ({ outputs: { out: { fields: [field("n", t.int), field("label", t.string, true)], open: false } } }),
  summarize: (c) => `${c.count}`,
});

export const testSplit = defineNode({
  type: "transform.split",
  version: 2,
  kind: "transform",
  title: "Split",
  category: "Test",
  icon: "split",
  summary: "test transform with two outputs",
  docs: "",
  inputs: [{ name: "in" }],
  outputs: [{ name: "even" }, { name: "odd" }],
  config: z.strictObject({ field: z.string().min(1) }),
  examples: [],
  delivery: {},
  infer: ({ config, inputs }) => {
    const input = inputs.in ?? { fields: [], open: false };
    const known = input.fields.some((f) => f.name === config.field);
    return {
      outputs: { even: input, odd: input },
      issues: known ? [] : [{ message: `no field "${config.field}"`, path: ["field"], code: "unknown-field" }],
    };
  },
  summarize: (c) => c.field,
});

export const testUnion = defineNode({
  type: "transform.merge",
  version: 1,
  kind: "transform",
  title: "Merge",
  category: "Test",
  icon: "merge",
  summary: "test union",
  docs: "",
  inputs: [{ name: "in", multiple: true }],
  outputs: [{ name: "out" }],
  config: z.strictObject({}),
  examples: [],
  delivery: {},
  infer: ({ inputs }) => ({ outputs: { out: inputs.in ?? { fields: [], open: false } } }),
  summarize: () => "",
});

export const testSink = defineNode({
  type: "sink.collect",
  version: 1,
  kind: "sink",
  title: "Collect",
  category: "Test",
  icon: "inbox",
  summary: "test sink",
  docs: "",
  inputs: [{ name: "in" }],
  outputs: [],
  config: z.strictObject({ idempotent: z.boolean().default(true) }),
  examples: [],
  delivery: { idempotent: (c) => c.idempotent },
  infer: () => ({ outputs: {} }),
  summarize: () => "",
});

const testCount = defineNode({
  type: "transform.count",
  version: 1,
  kind: "transform",
  title: "Count",
  category: "Test",
  icon: "sigma",
  summary: "test keyed operator",
  docs: "",
  inputs: [{ name: "in" }],
  outputs: [{ name: "out" }],
  config: z.strictObject({ key: z.array(z.string()).default([]) }),
  examples: [],
  delivery: {},
  keyBy: (c) => ({ in: c.key }),
  infer: ({ config }) => ({
    outputs: { out: { fields: [...config.key.map((k) => field(k, t.any, true)), field("count", t.int)], open: false } },
  }),
  summarize: (c) => c.key.join(", "),
});

export const testCatalog = createCatalog([testSource, testSplit, testUnion, testSink, testCount]);
