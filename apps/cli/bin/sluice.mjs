#!/usr/bin/env node
// The `sluice` command. Its sources are TypeScript; the first call after they change bundles them into one file
// (lib/cli-bundle.mjs), so the command works straight after `npm install` without a build step and starts fast.
import { loadCli } from "../lib/cli-bundle.mjs";

const main = await loadCli();
process.exitCode = await main(process.argv.slice(2));
