#!/usr/bin/env node
// The `brine` CLI: built code lives in dist/ (npm run build).
// `brine --version` alone answers before loading gRPC: install checks and hooks call it often.
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  process.stdout.write(`${typeof pkg.version === 'string' ? pkg.version : '0.0.0'}\n`);
} else {
  await import('../dist/src/cli/main.js');
}
