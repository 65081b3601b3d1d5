// Issue 13's benchmark: how long the `brine` CLI takes to start and answer, as a batch
// scheduler's prolog sees it (a fresh process per call). Figures: `brine --version`, and
// `brine site reclaim` (plain, and with the prolog's flags) + `release` of a node without VMs
// against a real coordinator and agent.
// Baseline measured in the same run: `node -e 0` (Node's own start-up, which no CLI can beat).
// Prints; asserts nothing.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT, TestGrid } from '../test/helpers/grid.js';
import { cliEnv, credentials } from '../test/helpers/pki.js';

const RUNS = Number(process.env.BENCH_CLI_RUNS ?? 10);
const BRINE = join(REPO_ROOT, 'bin', 'brine.js');

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

/** Wall time of `node args…` in ms, RUNS times; throws if a run fails (a figure of a failure is no figure). */
function time(args: string[], env: NodeJS.ProcessEnv): number[] {
  const out: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(process.execPath, args, { env, encoding: 'utf8' });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (r.status !== 0) throw new Error(`node ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
    out.push(ms);
  }
  return out.sort((a, b) => a - b);
}

function row(what: string, ms: number[], baseline: number[]): string {
  const p50 = pct(ms, 50);
  const ratio = p50 / pct(baseline, 50);
  return `${what.padEnd(44)} ${p50.toFixed(0).padStart(6)} ms  ${pct(ms, 90).toFixed(0).padStart(6)} ms  ${ratio.toFixed(1).padStart(5)}×`;
}

const grid = new TestGrid();
let failed = false;
try {
  await grid.startCoordinator();
  await grid.startAgent({ name: 'site-a' });
  // an empty environment, like a Slurm hook's: the coordinator's address and the site's credentials
  const env = { BRINE_COORDINATOR: grid.coordinator, ...cliEnv(await credentials('site', 'site-a')) };
  const baseline = time(['-e', '0'], {});
  const version = time([BRINE, '--version'], env);
  const reclaim = time([BRINE, 'site', 'reclaim', 'site-a', '--nodes', 'a1'], env);
  // as contrib/slurm/prolog-brine.sh calls it: one more round trip (ListSites) for --ignore-unknown
  const agent = `127.0.0.1:${grid.sitePorts.get('site-a')}`;
  const hook = time([BRINE, 'site', 'reclaim', 'site-a', '--nodes', 'a1,a3', '--grace', '2m', '--ignore-unknown', '--agent', agent], env);
  const release = time([BRINE, 'site', 'release', 'site-a', '--nodes', 'a1'], env);
  console.log(`\nCLI start-up (${RUNS} runs each; shared CPU: noisy, compare against the baseline of this run)`);
  console.log(`${'command'.padEnd(44)} ${'p50'.padStart(9)}  ${'p90'.padStart(9)}  vs node`);
  console.log(row('baseline: node -e 0', baseline, baseline));
  console.log(row('brine --version', version, baseline));
  console.log(row('brine site reclaim (node without VMs)', reclaim, baseline));
  console.log(row('  the same as the prolog calls it', hook, baseline));
  console.log(row('brine site release', release, baseline));
} catch (err) {
  failed = true;
  console.error(err);
} finally {
  await grid.close(failed);
}
process.exit(failed ? 1 : 0);
