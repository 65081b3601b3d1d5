// `npm run build`, after tsc: bundles the CLI (dist/src/cli/main.js and what it imports, our code
// and node_modules') into dist/cli-bundle/ with esbuild. A batch scheduler's prolog starts `brine`
// afresh for every Slurm job, and resolving and linking ~150 separate ES modules (grpc-js alone
// ~65) was a third of its start-up; a few bundled files load in one go. Dynamic imports stay
// separate chunks (--splitting), so a command still loads only what it uses. bin/brine.js runs the
// bundle only while it is newer than the tsc output it was made from.
import { build } from 'esbuild';
import { rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = join(root, 'dist', 'cli-bundle');
await rm(outdir, { recursive: true, force: true });
await build({
  entryPoints: [join(root, 'dist', 'src', 'cli', 'main.js')],
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  logLevel: 'warning',
  // CommonJS dependencies (grpc-js, protobufjs) call require() for Node's own modules
  banner: { js: "import { createRequire as __brineRequire } from 'node:module'; const require = __brineRequire(import.meta.url);" },
});
