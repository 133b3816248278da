#!/usr/bin/env node
// The `sluice` command. Sources are TypeScript; tsx compiles them on load (once, cached), so the command works
// straight after `npm install` without a build step.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../src/main.ts");
process.exitCode = await main(process.argv.slice(2));
