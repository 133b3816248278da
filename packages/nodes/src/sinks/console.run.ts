import type { SinkRuntime } from "../runtime-contract";
import type { ConsoleConfig } from "./console.def";

export const consoleRuntime: SinkRuntime<ConsoleConfig> = {
  kind: "sink",
  type: "sink.console",
  async open(ctx) {
    const { keep, print } = ctx.config;
    return {
      async write(records) {
        if (records.length === 0) return;
        await ctx.services.tail.append(ctx.nodeId, ctx.partition, records, keep);
        if (print) {
          for (const r of records) process.stdout.write(`${JSON.stringify({ node: ctx.nodeId, record: r })}\n`);
        }
      },
      async close() {},
    };
  },
};
