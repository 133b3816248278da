import { defineNode } from "@sluice/pipeline/node-definition";
import { z } from "zod";

const config = z.strictObject({
  keep: z.number().int().min(1).max(10_000).default(200).meta({
    label: "Records to keep",
    help: "How many of the newest records the live tail keeps for the editor.",
  }),
  print: z.boolean().default(false).meta({
    label: "Print to worker log",
    help: "Also write each record as a JSON line to the worker's standard output.",
    advanced: true,
  }),
});

export type ConsoleConfig = z.output<typeof config>;

export const consoleDef = defineNode({
  type: "sink.console",
  version: 1,
  kind: "sink",
  title: "Console",
  category: "Debug",
  icon: "terminal",
  summary: "Shows the newest records live in the editor.",
  docs: `A live tail: the newest records reaching this node are kept (up to *Records to keep*) and shown in the
editor while the run goes on. It is meant for looking at data, not for keeping it: older records are dropped from the
tail, and after a worker failure a record can appear twice, so a pipeline whose only sink is a console runs
at-least-once.`,
  inputs: [{ name: "in", multiple: true }],
  outputs: [],
  config,
  examples: [{ title: "Keep the last 50 records", config: { keep: 50 } }],
  delivery: { idempotent: false },
  infer: () => ({ outputs: {} }),
  summarize: (c) => `last ${c.keep} records${c.print ? " · printed" : ""}`,
});
