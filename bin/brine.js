#!/usr/bin/env node
// The `brine` CLI: built code lives in dist/ (npm run build).
// `brine --version` alone answers before loading gRPC: install checks and hooks call it often.
import { readFileSync, statSync } from 'node:fs';

const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  process.stdout.write(`${typeof pkg.version === 'string' ? pkg.version : '0.0.0'}\n`);
} else {
  // The bundle (scripts/bundle-cli.mjs) starts faster; it is used only while it is at least as new
  // as the tsc output, so a `tsc` without the bundling step never runs stale code.
  const mtime = (rel) => statSync(new URL(rel, import.meta.url), { throwIfNoEntry: false })?.mtimeMs ?? -1;
  const bundled = mtime('../dist/cli-bundle/main.js');
  await import(bundled >= 0 && bundled >= mtime('../dist/src/cli/main.js') ? '../dist/cli-bundle/main.js' : '../dist/src/cli/main.js');
}
