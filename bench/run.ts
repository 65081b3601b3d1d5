// `npm run bench`: every benchmark, one after the other, each printing its own table.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const benches = ['grid.bench.js', 'store.bench.js', 'addresses.bench.js', 'snapshot-store.bench.js', 'snapshot-pause.bench.js', 'transfer.bench.js', 'relocation.bench.js', 'cli.bench.js'];
let failed = 0;
for (const b of benches) {
  const r = spawnSync(process.execPath, [fileURLToPath(new URL(`./${b}`, import.meta.url))], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
