// The README's demo: a coordinator and two site agents (site-a, site-b) on loopback from config/,
// then a 3-VM job submitted with the real CLI and shown RUNNING with its site, nodes and addresses.
// Runs until Ctrl-C; with --stop it cancels the job and stops everything cleanly instead.
//   node dist/scripts/demo.js [--stop] [--qemu]
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const args = new Set(process.argv.slice(2));
const configDir = args.has('--qemu') ? 'config/qemu' : 'config';
const children: ChildProcess[] = [];

function start(name: string, bin: string, config: string): ChildProcess {
  mkdirSync(join(root, '.brine'), { recursive: true });
  const child = spawn(process.execPath, [join(root, bin), '--config', join(root, configDir, config)], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // Daemon logs go to .brine/<name>.log so the terminal shows only the CLI's output.
  const log = spawn('tee', ['-a', join(root, '.brine', `${name}.log`)], { stdio: ['pipe', 'ignore', 'inherit'] });
  child.stdout?.pipe(log.stdin);
  child.stderr?.pipe(log.stdin);
  child.on('exit', (code, signal) => {
    if (!stopping) {
      console.error(`demo: ${name} exited (${signal ?? code}); see .brine/${name}.log`);
      void shutdown(1);
    }
  });
  children.push(child);
  return child;
}

function brine(...cliArgs: string[]): { status: number; stdout: string } {
  const coordinator = args.has('--qemu') ? ['--coordinator', '127.0.0.1:7800'] : [];
  const r = spawnSync(process.execPath, [join(root, 'bin/brine.js'), ...coordinator, ...cliArgs], { cwd: root, encoding: 'utf8' });
  if (r.stderr) process.stderr.write(r.stderr);
  return { status: r.status ?? 1, stdout: r.stdout };
}

function show(...cliArgs: string[]): void {
  console.log(`\n$ brine ${cliArgs.join(' ')}`);
  const r = brine(...cliArgs);
  process.stdout.write(r.stdout);
  if (r.status !== 0) throw new Error(`brine ${cliArgs.join(' ')} exited ${r.status}`);
}

let stopping = false;
async function shutdown(code: number): Promise<never> {
  stopping = true;
  // Agents first, with SIGTERM: they stop their loops; the demo's --stop cancels jobs before.
  for (const c of children.reverse()) c.kill('SIGTERM');
  await Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.on('exit', r)))));
  process.exit(code);
}

async function waitSitesUp(): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const r = brine('sites', '--json');
    if (r.status === 0) {
      const sites = JSON.parse(r.stdout) as Array<{ name: string; state: string }>;
      if (sites.filter((s) => s.state === 'UP').length >= 2) return;
    }
    await new Promise((r2) => setTimeout(r2, 300));
  }
  throw new Error('sites did not come UP within 30 s; see .brine/*.log');
}

async function main(): Promise<void> {
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));
  console.log(`demo: starting brine-coordinator and two agents from ${configDir}/ (logs in .brine/)`);
  start('coordinator', 'bin/brine-coordinator.js', 'coordinator.yaml');
  start('site-a', 'bin/brine-agent.js', 'site-a.yaml');
  start('site-b', 'bin/brine-agent.js', 'site-b.yaml');
  await waitSitesUp();
  show('sites');
  console.log('\n$ brine submit --name demo --vms 3 --cpus 1 --memory 128 --image tiny --wait --json');
  const sub = brine('submit', '--name', 'demo', '--vms', '3', '--cpus', '1', '--memory', '128', '--image', 'tiny', '--wait', '--json');
  if (sub.status !== 0) throw new Error(`submit exited ${sub.status}`);
  const job = JSON.parse(sub.stdout) as { id: string; state: string };
  console.log(`submitted ${job.id}: ${job.state}`);
  show('show', job.id);
  show('addresses');
  if (args.has('--stop')) {
    show('cancel', job.id);
    console.log('\ndemo: stopped cleanly (--stop)');
    await shutdown(0);
  }
  console.log('\ndemo: the grid is running; try `npx brine ls`, `npx brine watch`. Ctrl-C stops it.');
}

main().catch(async (err: unknown) => {
  console.error(`demo: ${(err as Error).message}`);
  await shutdown(1);
});
