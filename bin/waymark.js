#!/usr/bin/env node
// Thin launcher: the CLI lives in the compiled package (run `npm run build` first when working from a clone).
import { main } from '../dist/cli/index.js';

// `waymark schema | head` closes the pipe early; that is the reader's choice, not a failure.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}

process.exitCode = await main(process.argv.slice(2));
