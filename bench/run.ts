// `npm run bench`: every benchmark, one after the other, each printing its own table.
// `node dist/bench/run.js store transfer`: only those (names: grid, addresses, store, pause,
// transfer, relocation, cli).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const all: Record<string, string> = {
  grid: 'grid.bench.js',
  'coordinator-store': 'store.bench.js',
  placement: 'placement.bench.js',
  addresses: 'addresses.bench.js',
  store: 'snapshot-store.bench.js',
  pause: 'snapshot-pause.bench.js',
  transfer: 'transfer.bench.js',
  relocation: 'relocation.bench.js',
  cli: 'cli.bench.js',
  metrics: 'metrics.bench.js',
};
const asked = process.argv.slice(2);
const unknown = asked.filter((a) => !(a in all));
if (unknown.length > 0) {
  console.error(`unknown benchmark ${unknown.join(', ')}; choose from ${Object.keys(all).join(', ')}`);
  process.exit(2);
}
const benches = asked.length > 0 ? asked.map((a) => all[a] as string) : Object.values(all);
let failed = 0;
for (const b of benches) {
  const r = spawnSync(process.execPath, [fileURLToPath(new URL(`./${b}`, import.meta.url))], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
