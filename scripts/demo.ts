// The README's demo: a coordinator and two site agents (site-a, site-b) on loopback from config/,
// then a 3-VM job submitted with the real CLI and shown RUNNING with its site, nodes and addresses.
// Runs until Ctrl-C; with --stop it cancels the job and stops everything cleanly instead.
//   node dist/scripts/demo.js [--stop] [--qemu]
// --qemu: the same grid from config/qemu/ on real QEMU (qemu:///system); it runs
// scripts/setup-qemu.sh first (idempotent: libvirtd, QEMU, the test guest). It also shows each guest's console line with the address the
// guest took by DHCP, and its agents run with --cleanup: stopping the demo (Ctrl-C or --stop)
// destroys the VMs and networks instead of leaving them running in libvirtd.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { caFiles, ensureIssued } from '../src/shared/ca.js';
import { loadCoordinatorConfig } from '../src/coordinator/config.js';

const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const args = new Set(process.argv.slice(2));
const qemu = args.has('--qemu');
const configDir = qemu ? 'config/qemu' : 'config';
/** daemon logs: .brine/<name>.log, or .brine/qemu/<name>.log for the real-QEMU grid */
const logDir = qemu ? '.brine/qemu' : '.brine';
const children: ChildProcess[] = [];

function start(name: string, bin: string, config: string, extra: string[] = []): ChildProcess {
  mkdirSync(join(root, logDir), { recursive: true });
  // Daemon logs go straight to .brine/<name>.log (no pipe through this process, so a daemon still
  // finishes its shutdown when the demo is gone) and the terminal shows only the CLI's output.
  const log = openSync(join(root, logDir, `${name}.log`), 'a');
  const child = spawn(process.execPath, [join(root, bin), '--config', join(root, configDir, config), ...extra], {
    cwd: root,
    stdio: ['ignore', log, log],
    // Own process group: Ctrl-C in the terminal reaches only the demo, which then stops the daemons
    // with one SIGTERM each (a second signal would make an agent exit before its --cleanup is done).
    detached: true,
  });
  closeSync(log);
  child.on('exit', (code, signal) => {
    if (stopping) return;
    console.error(`demo: ${name} exited (${signal ?? code}); see ${logDir}/${name}.log`);
    // Before the grid is up a dead daemon is a failed demo. After, the others keep running, as
    // they would on a real grid (agents re-register when the coordinator is back): a user can
    // kill -9 the coordinator and restart it to see that nothing acknowledged is lost.
    if (!gridUp) return void shutdown(1);
    console.error(`demo: the rest of the grid keeps running; start it again with: npx ${bin.replace(/^bin\/|\.js$/g, '')} --config ${configDir}/${config}${extra.length ? ` ${extra.join(' ')}` : ''}`);
  });
  children.push(child);
  return child;
}

function brine(...cliArgs: string[]): { status: number; stdout: string; stderr: string } {
  const coordinator = qemu ? ['--coordinator', '127.0.0.1:7800'] : [];
  const r = spawnSync(process.execPath, [join(root, 'bin/brine.js'), ...coordinator, ...cliArgs], { cwd: root, encoding: 'utf8' });
  return { status: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
}

function show(...cliArgs: string[]): void {
  console.log(`\n$ brine ${cliArgs.join(' ')}`);
  const r = brine(...cliArgs);
  process.stdout.write(r.stdout);
  process.stderr.write(r.stderr);
  if (r.status !== 0) throw new Error(`brine ${cliArgs.join(' ')} exited ${r.status}`);
}

/** the demo's job, once submitted */
let demoJob: string | null = null;

/**
 * Ctrl-C. On real QEMU the demo's job is cancelled first: a coordinator restarted later would
 * otherwise find it RUNNING with its VMs gone (the agents' --cleanup) and deploy it again.
 */
function onSignal(): void {
  if (stopping) return;
  if (qemu && demoJob) {
    console.log(`\ndemo: cancelling ${demoJob}`);
    brine('cancel', demoJob);
  }
  void shutdown(0);
}

let stopping = false;
/** once every daemon runs and both sites are UP */
let gridUp = false;
async function shutdown(code: number): Promise<never> {
  stopping = true;
  // Agents first, with SIGTERM: they stop their loops; the demo's --stop cancels jobs before.
  for (const c of children.reverse()) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
  await Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null || c.signalCode !== null ? r(null) : c.on('exit', r)))));
  process.exit(code);
}

async function waitSitesUp(): Promise<void> {
  const deadline = Date.now() + 30_000;
  let last = '';
  while (Date.now() < deadline) {
    const r = brine('sites', '--json');
    last = r.stderr.trim();
    if (r.status === 0) {
      const sites = JSON.parse(r.stdout) as Array<{ name: string; state: string }>;
      if (sites.filter((s) => s.state === 'UP').length >= 2) return;
    }
    await new Promise((r2) => setTimeout(r2, 300));
  }
  throw new Error(`sites did not come UP within 30 s${last ? ` (${last})` : ''}; see ${logDir}/*.log`);
}

/** Real guests: waits for each VM's console to show the address brine leased to it, and prints it. */
async function showConsoles(jobId: string): Promise<void> {
  const job = JSON.parse(brine('show', jobId, '--json').stdout) as { vms: Array<{ name: string; ip: string; console: string }> };
  console.log('\n(the guests\' serial consoles: a tick counter and the address each took by DHCP)');
  for (const vm of job.vms) {
    const deadline = Date.now() + 120_000;
    let line: string | undefined;
    while (!line && Date.now() < deadline) {
      if (vm.console && existsSync(vm.console)) {
        line = readFileSync(vm.console, 'utf8')
          .split(/\r?\n/)
          .filter((l) => l.startsWith('tick ') && l.includes(`,${vm.ip}/`))
          .pop();
      }
      if (!line) await new Promise((r) => setTimeout(r, 250));
    }
    console.log(`${vm.name}: ${line ?? `no console line with ${vm.ip} yet (see ${vm.console})`}`);
  }
  console.log(`consoles: ${job.vms.map((v) => v.console).join(' ')}`);
}

/**
 * The demo grid's CA (.brine/ca) and certificates, made on first start: the coordinator's, each
 * site's, and an admin named after you for the CLI, copied to .brine/credentials where the CLI
 * looks by default (README, Security).
 */
async function ensureCredentials(): Promise<void> {
  const caDir = join(root, '.brine', 'ca');
  const admin = userInfo().username.replace(/[^A-Za-z0-9._-]/g, '') || 'admin';
  const issued = await ensureIssued(caDir, [
    { role: 'coordinator', name: 'coordinator' },
    { role: 'site', name: 'site-a' },
    { role: 'site', name: 'site-b' },
    { role: 'admin', name: admin },
  ]);
  const cli = join(root, '.brine', 'credentials');
  const mine = issued.get(`admin-${admin}`);
  if (!mine) throw new Error('the demo admin certificate was not issued');
  mkdirSync(cli, { recursive: true, mode: 0o700 });
  copyFileSync(caFiles(caDir).cert, join(cli, 'ca.crt'));
  copyFileSync(mine.cert, join(cli, 'client.crt'));
  copyFileSync(mine.key, join(cli, 'client.key'));
}

async function main(): Promise<void> {
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  if (qemu) {
    console.log('demo: preparing this host for real VMs (scripts/setup-qemu.sh)');
    const setup = spawnSync('bash', [join(root, 'scripts/setup-qemu.sh')], { cwd: root, stdio: 'inherit' });
    if (setup.status !== 0) throw new Error(`scripts/setup-qemu.sh exited ${setup.status ?? setup.signal}`);
  }
  await ensureCredentials();
  console.log(`demo: starting brine-coordinator and two agents from ${configDir}/ (logs in ${logDir}/)`);
  start('coordinator', 'bin/brine-coordinator.js', 'coordinator.yaml');
  const agentArgs = qemu ? ['--cleanup'] : [];
  start('site-a', 'bin/brine-agent.js', 'site-a.yaml', agentArgs);
  start('site-b', 'bin/brine-agent.js', 'site-b.yaml', agentArgs);
  await waitSitesUp();
  gridUp = true;
  show('sites');
  console.log('\n$ brine submit --name demo --vms 3 --cpus 1 --memory 128 --image tiny --wait --json');
  const sub = brine('submit', '--name', 'demo', '--vms', '3', '--cpus', '1', '--memory', '128', '--image', 'tiny', '--wait', '--json');
  process.stderr.write(sub.stderr);
  if (sub.status !== 0) throw new Error(`submit exited ${sub.status}`);
  const job = JSON.parse(sub.stdout) as { id: string; state: string };
  demoJob = job.id;
  console.log(`submitted ${job.id}: ${job.state}`);
  show('show', job.id);
  show('addresses');
  if (qemu) await showConsoles(job.id);
  if (args.has('--stop')) {
    show('cancel', job.id);
    console.log('\ndemo: stopped cleanly (--stop)');
    await shutdown(0);
  }
  const config = loadCoordinatorConfig(join(root, configDir, 'coordinator.yaml'));
  if (config.dashboard) console.log(`\ndemo: the dashboard is at http://${config.dashboard.listen}/ (live; open it in a browser on this machine)`);
  if (config.metrics) console.log(`demo: Prometheus metrics at http://${config.metrics.listen}/metrics`);
  console.log('\ndemo: the grid is running; try `npx brine ls`, `npx brine watch`. Ctrl-C stops it.');
}

main().catch(async (err: unknown) => {
  console.error(`demo: ${(err as Error).message}`);
  await shutdown(1);
});
