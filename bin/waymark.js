#!/usr/bin/env node
// Thin launcher: the CLI lives in the compiled package (run `npm run build` first when working from a clone).
import { main } from '../dist/cli/index.js';

process.exitCode = await main(process.argv.slice(2));
