// Relocation of a real QEMU cluster (2 and 4 VMs of 128 MiB, .brine/guest, qemu:///system) from one
// site to another with `brine migrate JOB --to B` — with its pre-copy (the default), with
// `--no-precopy`, and with a replica of its last checkpoint already at the destination — against
// what Saline did: a plain sequential script, for each VM in
// turn, of `virsh save` → copy the file (`cp` to another directory, for the network copy) →
// `virsh restore` (same libvirtd, original domain removed first). Prints; asserts nothing.
// Run: npx tsc -p . && node dist/bench/relocation.bench.js
//
// Per cluster size, each on a grid of its own (real coordinator + agents `rb<hex><v>-a`, `-b`):
//   1. pre-copy (`replicas: 0`): `brine submit --wait` on site-a, every console ticks, `brine
//      migrate JOB --to …-b` timed (it sends a checkpoint while the job runs, then the final
//      snapshot), then `brine show` says RUNNING on site-b and every console ticks again;
//   2. --no-precopy: the same with `brine migrate --no-precopy` (final snapshot straight away);
//   3. with a replica (`replicas: 1` on site-a): first `brine snapshot JOB` and a wait until
//      `brine snapshots JOB --json` lists site-b among that snapshot's sites (copied there in the
//      background), then the timed migrate (no pre-copy: site-b holds the latest snapshot);
//   4. the virsh script, on the VMs of 3. once they run on site-b: the grid's processes are killed
//      first (the domains keep running in libvirt), so no agent sees the VMs go and come back.
// While a move or the script runs, every console is polled (100 ms): a guest's tick gap is the wall
// time between the last new tick before it stopped and the first new tick after it ran again (the
// guest ticks once a second, so the gap includes up to ~1 s of tick period); after a move the console
// is the destination's (same domain name, the destination's data dir), both files are polled.
//
// Everything (domains with these sites' metadata, their networks and QEMU logs, grid dirs, save
// files) goes in a `finally`, and on Ctrl-C / SIGTERM too; nothing of other runs is touched.
// Without libvirt's QEMU driver or the test guest it says so loudly and exits 0.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { hypervisorLogs } from '../site-agent/clusters.js';
import { domainName, parseVmMetadata, pickGuest } from '../site-agent/domain-xml.js';
import type { Job, Snapshot } from '../src/shared/proto.js';
import { runCli, type CliResult } from '../test/helpers/cli.js';
import { TestGrid, waitFor } from '../test/helpers/grid.js';
import { freeOctet, GUEST, lines, qemuUnavailable, run, URI, virsh } from './qemu-host.js';

const SIZES = [2, 4];
/** a booting cluster's first ticks (4 TCG guests at once on 2 cores) */
const BOOT_WAIT_MS = 150_000;
/** a tick after a move / restore */
const TICK_WAIT_MS = 90_000;
/** the background replica of a checkpoint reaching site-b */
const REPLICA_WAIT_MS = 150_000;
/** skip the 4-VM case if the run has used more than this by then (the whole run should stay < ~10 min) */
const BUDGET_FOR_4_MS = 320_000;

const tag = `rb${randomBytes(3).toString('hex')}`;
const grids = new Set<TestGrid>();
const ourSites = new Set<string>();
const saveDirs: string[] = [];

const secs = (ms: number): string => (ms / 1000).toFixed(1);
const pad = (s: string, n: number): string => s.padEnd(n);

// ---------------------------------------------------------------------------------------------
// Cleanup: the grids' processes and dirs, libvirt's domains of our sites (by their metadata: domain
// names carry no site) and networks (`brine-<site>-…`), QEMU logs, save files.

async function cleanLibvirt(sites: Set<string>): Promise<string[]> {
  const removed: string[] = [];
  const domains = lines(await virsh('list', '--all', '--name').catch(() => '')).filter((n) => n.startsWith('brine-'));
  for (const d of domains) {
    const meta = parseVmMetadata(await virsh('dumpxml', d).catch(() => ''));
    if (!meta || !sites.has(meta.site)) continue;
    await virsh('destroy', d).catch(() => '');
    await virsh('undefine', d).catch(() => '');
    for (const f of hypervisorLogs(URI, d)) rmSync(f, { force: true });
    removed.push(d);
  }
  const ours = (n: string): boolean => [...sites].some((s) => n.startsWith(`brine-${s}-`));
  for (const n of lines(await virsh('net-list', '--all', '--name').catch(() => '')).filter(ours)) {
    await virsh('net-destroy', n).catch(() => '');
    await virsh('net-undefine', n).catch(() => '');
    removed.push(n);
  }
  return removed;
}

async function closeGrid(grid: TestGrid): Promise<void> {
  grids.delete(grid);
  await grid.close().catch(() => undefined);
}

let cleaning: Promise<string[]> | null = null;
function cleanup(): Promise<string[]> {
  cleaning ??= (async () => {
    for (const g of [...grids]) await closeGrid(g);
    const removed = await cleanLibvirt(ourSites);
    for (const d of saveDirs) rmSync(d, { recursive: true, force: true });
    return removed;
  })();
  return cleaning;
}

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    console.log(`\n${sig}: removing everything of sites ${[...ourSites].join(', ') || tag}…`);
    void cleanup().then(
      (removed) => {
        console.log(`removed: ${removed.join(', ') || 'nothing left in libvirt'}`);
        process.exit(130);
      },
      () => process.exit(130),
    );
  });
}

// ---------------------------------------------------------------------------------------------
// Consoles: `tick N IFACE=MAC,IP/PREFIX` once a second.

function maxTick(files: string[]): number {
  let max = 0;
  for (const f of files) {
    let text = '';
    try {
      text = readFileSync(f, 'utf8');
    } catch {
      continue;
    }
    for (const m of text.matchAll(/^tick (\d+)/gm)) max = Math.max(max, Number(m[1]));
  }
  return max;
}

/** Every VM's console shows a tick above `above` (per VM), within `ms`. */
async function ticksAbove(consoles: string[][], above: number[], ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (consoles.every((files, i) => maxTick(files) > (above[i] ?? 0))) return true;
    await sleep(200);
  }
  return false;
}

/**
 * Polls the consoles every 100 ms while something runs: per VM, the longest wall time between two
 * successive new ticks, and whether it ticked again at all (its largest gap is its downtime as seen
 * from outside, give or take the 1 s tick period).
 */
class TickWatch {
  private readonly last: number[];
  private readonly lastAt: number[];
  readonly gaps: number[];
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly consoles: string[][]) {
    const now = Date.now();
    this.last = consoles.map((f) => maxTick(f));
    this.lastAt = consoles.map(() => now);
    this.gaps = consoles.map(() => 0);
    this.timer = setInterval(() => this.poll(), 100);
  }

  private poll(): void {
    const now = Date.now();
    this.consoles.forEach((files, i) => {
      const n = maxTick(files);
      if (n > (this.last[i] ?? 0)) {
        this.gaps[i] = Math.max(this.gaps[i] ?? 0, now - (this.lastAt[i] ?? now));
        this.last[i] = n;
        this.lastAt[i] = now;
      }
    });
  }

  /** Polls until every VM ticked at least once more (bounded), then stops. */
  async finish(ms: number): Promise<boolean> {
    const target = [...this.last];
    const ok = await ticksAbove(this.consoles, target, ms);
    this.poll();
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    return ok;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}

// ---------------------------------------------------------------------------------------------

interface MoveResult {
  moveMs: number;
  /** migrate started → every guest ticked on site-b */
  tickingMs: number;
  gaps: number[];
  /** RELOCATING → RUNNING in the job's history */
  historyMs: number | null;
  /** from the job's history: final snapshot (RELOCATING → its "final snapshot" line), transfer (→ RESUMING), restore (→ RUNNING) */
  phases: string;
  replicaWaitMs?: number;
  snapshotMs?: number;
  ok: boolean;
  note?: string;
}

interface ScriptResult {
  totalMs: number;
  tickingMs: number;
  gaps: number[];
  perVm: Array<{ save: number; cp: number; restore: number; mb: number }>;
  ok: boolean;
}

/** The ways brine is measured moving a cluster. */
const VARIANTS = [
  { key: 'precopy', label: 'brine (pre-copy)', suffix: 'p', replica: false, args: [] as string[] },
  { key: 'direct', label: 'brine --no-precopy', suffix: 'd', replica: false, args: ['--no-precopy'] },
  { key: 'replica', label: 'brine, replica there', suffix: 'r', replica: true, args: [] as string[] },
] as const;
type VariantKey = (typeof VARIANTS)[number]['key'];

interface SizeResult {
  k: number;
  bootMs: number[];
  moves: Record<VariantKey, MoveResult>;
  script: ScriptResult | null;
  notes: string[];
}


async function startGrid(siteA: string, siteB: string, replicasA: number, octet: number): Promise<TestGrid> {
  const grid = new TestGrid();
  grids.add(grid);
  ourSites.add(siteA);
  ourSites.add(siteB);
  const cmdline = readFileSync(join(GUEST, 'cmdline'), 'utf8').trim();
  const images = { tiny: { kernel: join(GUEST, 'vmlinuz'), initrd: join(GUEST, 'initrd.img'), cmdline } };
  const macByte = (randomBytes(1)[0] as number).toString(16).padStart(2, '0');
  await grid.startCoordinator({ heartbeatTimeout: '20s' });
  for (const [i, site] of [siteA, siteB].entries()) {
    await grid.startAgent(
      {
        name: site,
        nodes: [1, 2].map((n) => ({ name: `n${n}`, uri: URI, cpus: 4, memoryMiB: 2048 })),
        images,
        subnetPool: `10.${octet}.${i * 4}.0/22`,
        macRange: `02:b7:${macByte}:${i}0:00:00/32`,
        extra: `pollInterval: 1s\nsnapshots: { every: 1h, keep: 3, replicas: ${i === 0 ? replicasA : 0} }`,
      },
      {},
    );
  }
  return grid;
}

async function moveOnce(
  k: number,
  siteA: string,
  siteB: string,
  replica: boolean,
  migrateArgs: readonly string[],
  octet: number,
  keepGrid: boolean,
): Promise<{ r: MoveResult; bootMs: number; grid: TestGrid; job: Job }> {
  const grid = await startGrid(siteA, siteB, replica ? 1 : 0, octet);
  const cli = (...args: string[]): Promise<CliResult> => runCli(['--coordinator', grid.coordinator, ...args], { timeoutMs: 300_000 });
  const show = async (id: string): Promise<Job> => (await cli('show', id, '--json')).json<Job>();
  try {
    const t0 = Date.now();
    const s = await cli('submit', '--name', `rel${k}`, '--vms', String(k), '--cpus', '1', '--memory', '128', '--image', 'tiny', '--site', siteA, '--wait', '--timeout', '4m', '--json');
    if (s.code !== 0) throw new Error(`submit failed (${s.code}): ${s.stderr.trim()}`);
    const before = await show(s.json<Job>().id);
    if (before.state !== 'RUNNING' || before.site !== siteA) throw new Error(`job ${before.id} is ${before.state} on ${before.site}, not RUNNING on ${siteA}`);
    const oldConsoles = before.vms.map((v) => v.console);
    if (!(await ticksAbove(oldConsoles.map((c) => [c]), oldConsoles.map(() => 1), BOOT_WAIT_MS))) {
      throw new Error(`the ${k} guests printed no tick within ${BOOT_WAIT_MS / 1000} s of RUNNING`);
    }
    const bootMs = Date.now() - t0;

    let replicaWaitMs: number | undefined;
    let snapshotMs: number | undefined;
    if (replica) {
      const ts = Date.now();
      const snap = await cli('snapshot', before.id, '--json');
      if (snap.code !== 0) throw new Error(`snapshot failed (${snap.code}): ${snap.stderr.trim()}`);
      snapshotMs = Date.now() - ts;
      const id = snap.json<Snapshot>().id;
      await waitFor(
        `snapshot ${id} to be replicated to ${siteB}`,
        async () => (await cli('snapshots', before.id, '--json')).json<Snapshot[]>().find((x) => x.id === id && x.sites.includes(siteB)),
        REPLICA_WAIT_MS,
        1000,
      );
      replicaWaitMs = Date.now() - ts;
    }

    // the destination's console: same domain name, site-b's data dir
    const consoles = before.vms.map((v) => [v.console, join(grid.siteDataDir(siteB), 'consoles', `${domainName(before.id, v.name)}.log`)]);
    const watch = new TickWatch(consoles);
    const tm = Date.now();
    const m = await cli('migrate', before.id, '--to', siteB, ...migrateArgs, '--json');
    const moveMs = Date.now() - tm;
    if (m.code !== 0) {
      watch.stop();
      throw new Error(`migrate failed (${m.code}): ${m.stderr.trim()}`);
    }
    const after = await show(before.id);
    let note: string | undefined;
    if (after.state !== 'RUNNING' || after.site !== siteB) note = `after migrate the job is ${after.state} on ${after.site}`;
    const ok = await watch.finish(TICK_WAIT_MS);
    const tickingMs = Date.now() - tm;
    // the move's first RELOCATING line (later ones note its steps) and the RUNNING that ends it
    const startIdx = after.history.findLastIndex((h) => h.state === 'RUNNING' && !h.reason.startsWith('moved'));
    const reloc = after.history.slice(startIdx + 1).find((h) => h.state === 'RELOCATING');
    const running = after.history.findLast((h) => h.state === 'RUNNING');
    const historyMs = reloc && running ? Date.parse(running.at) - Date.parse(reloc.at) : null;
    const moveLines = after.history.slice(startIdx + 1);
    const at = (h: { at: string } | undefined): number => (h ? Date.parse(h.at) : NaN);
    const preDone = moveLines.find((h) => h.state === 'RELOCATING' && h.reason.startsWith('pre-copy '));
    const snapDone = moveLines.find((h) => h.state === 'RELOCATING' && h.reason.startsWith('final snapshot'));
    const resuming = moveLines.find((h) => h.state === 'RESUMING');
    const span = (a: number, b: number): string => (Number.isNaN(a) || Number.isNaN(b) ? '?' : secs(b - a));
    const phases =
      (preDone ? `pre-copy ${span(at(reloc), at(preDone))} + ` : '') +
      `final snapshot ${span(at(preDone ?? reloc), at(snapDone))} + transfer ${span(at(snapDone), at(resuming))} + restore ${span(at(resuming), at(running))} s`;
    const r: MoveResult = { moveMs, tickingMs, gaps: watch.gaps, historyMs, phases, ok, ...(replicaWaitMs !== undefined ? { replicaWaitMs } : {}), ...(snapshotMs !== undefined ? { snapshotMs } : {}), ...(note ? { note } : {}) };
    if (!keepGrid) await closeGrid(grid);
    return { r, bootMs, grid, job: after };
  } catch (err) {
    await closeGrid(grid);
    throw err;
  }
}

/** What Saline did: per VM in turn, virsh save → cp → virsh restore, on the same libvirtd. */
async function virshScript(job: Job): Promise<ScriptResult> {
  const from = mkdtempSync(join(tmpdir(), `brine-${tag}-save-`));
  const to = mkdtempSync(join(tmpdir(), `brine-${tag}-copy-`));
  saveDirs.push(from, to);
  const consoles = job.vms.map((v) => [v.console]);
  const watch = new TickWatch(consoles);
  const perVm: ScriptResult['perVm'] = [];
  const t0 = Date.now();
  for (const vm of job.vms) {
    const d = domainName(job.id, vm.name);
    const file = `${d}.save`;
    const a = Date.now();
    await virsh('save', d, join(from, file));
    await virsh('undefine', d).catch(() => ''); // a transient domain is gone already
    const b = Date.now();
    await run('cp', [join(from, file), join(to, file)]);
    const c = Date.now();
    await virsh('restore', join(to, file));
    const e = Date.now();
    let mb = 0;
    try {
      mb = (await readFile(join(to, file))).length / 1e6;
    } catch {
      /* size unknown */
    }
    rmSync(join(from, file), { force: true });
    perVm.push({ save: b - a, cp: c - b, restore: e - c, mb });
  }
  const totalMs = Date.now() - t0;
  const ok = await watch.finish(TICK_WAIT_MS);
  const tickingMs = Date.now() - t0;
  rmSync(from, { recursive: true, force: true });
  rmSync(to, { recursive: true, force: true });
  return { totalMs, tickingMs, gaps: watch.gaps, perVm, ok };
}

async function benchSize(k: number, octets: Set<number>): Promise<SizeResult> {
  const notes: string[] = [];
  const moves = {} as Record<VariantKey, MoveResult>;
  const bootMs: number[] = [];
  let script: ScriptResult | null = null;
  for (const v of VARIANTS) {
    const octet = await freeOctet(octets);
    octets.add(octet);
    const sites = [`${tag}${v.suffix}-a`, `${tag}${v.suffix}-b`] as const;
    // the replica variant's grid stays up: the virsh script runs on its VMs, now on site-b
    const done = await moveOnce(k, sites[0], sites[1], v.replica, v.args, octet, v.replica);
    moves[v.key] = done.r;
    bootMs.push(done.bootMs);
    console.log(`   … ${k} VMs, ${v.label}: migrate ${secs(done.r.moveMs)} s`);
    if (!v.replica) {
      await cleanLibvirt(new Set(sites));
      continue;
    }
    // The baseline on those very VMs: the grid goes first (its agents would see the domains
    // stop), the domains stay in libvirt.
    try {
      for (const name of [...done.grid.procs.keys()]) await done.grid.kill(name, 'SIGKILL');
      if (done.job.state === 'RUNNING' && done.job.site === sites[1]) {
        script = await virshScript(done.job);
        console.log(`   … ${k} VMs, virsh save → cp → restore: ${secs(script.totalMs)} s`);
      } else notes.push('virsh script not run: the job did not end up RUNNING on site-b');
    } catch (err) {
      notes.push(`virsh script failed: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
    } finally {
      await closeGrid(done.grid);
      await cleanLibvirt(new Set(sites));
    }
  }
  for (const v of VARIANTS) {
    const r = moves[v.key];
    if (!r.ok) notes.push(`${v.label}: not every guest ticked again within ${TICK_WAIT_MS / 1000} s`);
    if (r.note) notes.push(`${v.label}: ${r.note}`);
  }
  if (script && !script.ok) notes.push(`virsh script: not every guest ticked again within ${TICK_WAIT_MS / 1000} s`);
  return { k, bootMs, moves, script, notes };
}

function printResults(results: SizeResult[]): void {
  const maxGap = (g: number[]): string => (g.length ? `${secs(Math.max(...g))} s` : '–');
  const table = (title: string, width: number, cell: (m: MoveResult) => string, scriptCell: (s: ScriptResult) => string, scriptHead: string): void => {
    console.log(`\n${title}`);
    console.log(`   ${pad('VMs', 5)}${VARIANTS.map((v) => pad(v.label, width)).join('')}${scriptHead}`);
    for (const r of results) {
      console.log(`   ${pad(String(r.k), 5)}${VARIANTS.map((v) => pad(cell(r.moves[v.key]), width)).join('')}${r.script ? scriptCell(r.script) : '–'}`);
    }
  };
  table('1. Relocation wall time (s): `brine migrate` returns (job RUNNING on site-b) | the virsh script ends', 24, (m) => secs(m.moveMs), (s) => secs(s.totalMs), 'virsh save→cp→restore, sequential');
  table('2. Until every guest ticked again (s, from the start of the move / script)', 24, (m) => secs(m.tickingMs), (s) => secs(s.tickingMs), 'virsh script');
  const each = (g: number[]): string => `${maxGap(g)} (${g.map((x) => secs(x)).join('/')})`;
  table('3. Downtime the guests saw: longest gap between two new ticks on a console, worst VM (each VM: …)', 34, (m) => each(m.gaps), (s) => each(s.gaps), 'virsh script');
  console.log('   (ticks come once a second: a gap includes up to ~1 s of tick period; polled every 100 ms. The script stops one VM at a');
  console.log('   time, so each VM is down only for its own save+restore, but the cluster is whole again only when the script ends: table 1)');

  console.log('\n4. Details (phases from the job\'s history)');
  for (const r of results) {
    for (const v of VARIANTS) {
      const m = r.moves[v.key];
      console.log(`   ${r.k} VMs, ${pad(v.label + ':', 22)} RELOCATING→RUNNING ${m.historyMs === null ? '?' : secs(m.historyMs)} s = ${m.phases}`);
    }
    const rep = r.moves.replica;
    console.log(
      `   ${r.k} VMs: replica: \`brine snapshot\` ${rep.snapshotMs !== undefined ? secs(rep.snapshotMs) : '?'} s, on site-b ${rep.replicaWaitMs !== undefined ? secs(rep.replicaWaitMs) : '?'} s after it started; ` +
        `submit → ticking ${r.bootMs.map(secs).join(' / ')} s`,
    );
    if (r.script) {
      const s = r.script.perVm;
      console.log(`        virsh per VM (save/cp/restore s, file MB): ${s.map((x) => `${secs(x.save)}/${secs(x.cp)}/${secs(x.restore)} ${x.mb.toFixed(0)}`).join(', ')}`);
    }
  }
  const notes = results.flatMap((r) => r.notes.map((n) => `${r.k} VMs: ${n}`));
  for (const n of notes) console.log(`   note: ${n}`);
}

async function main(): Promise<void> {
  const why = await qemuUnavailable();
  if (why) {
    const bar = '!'.repeat(78);
    console.log(`${bar}\n!! relocation benchmark NOT RUN: ${why}\n!! (needs libvirtd with QEMU and the test guest: npm run setup:qemu)\n${bar}`);
    return;
  }
  const caps = await virsh('capabilities');
  const accel = pickGuest(caps).why;
  const others = lines(await virsh('list', '--name')).filter((n) => n !== '').length;
  const load = (await readFile('/proc/loadavg', 'utf8').catch(() => '?')).split(' ').slice(0, 3).join(' ');
  console.log(`relocation benchmark — sites ${tag}{${VARIANTS.map((v) => v.suffix).join(',')}}-a/-b, ${URI}, ${accel}, ${cpus().length} cores, node ${process.versions.node}`);
  console.log(`   128 MiB guests of ${GUEST}; clusters of ${SIZES.join(', ')} VMs; load at start ${load}; other running domains: ${others}`);
  const started = Date.now();
  const results: SizeResult[] = [];
  const skipped: string[] = [];
  let removed: string[] = [];
  try {
    const octets = new Set<number>();
    for (const k of SIZES) {
      if (k > 2 && Date.now() - started > BUDGET_FOR_4_MS) {
        skipped.push(`${k} VMs skipped: the run had already taken ${secs(Date.now() - started)} s (budget ~10 min)`);
        continue;
      }
      try {
        results.push(await benchSize(k, octets));
      } catch (err) {
        skipped.push(`${k} VMs failed: ${err instanceof Error ? err.message.split('\n').slice(0, 3).join(' | ') : String(err)}`);
      }
    }
  } finally {
    removed = await cleanup();
    if (results.length > 0) printResults(results);
    for (const s of skipped) console.log(`   ${s}`);
    const loadEnd = (await readFile('/proc/loadavg', 'utf8').catch(() => '?')).split(' ').slice(0, 3).join(' ');
    console.log(`\n   load at end ${loadEnd}; total ${secs(Date.now() - started)} s; cleanup: ${removed.length === 0 ? 'nothing of the run left in libvirt' : `removed leftovers ${removed.join(', ')}`}`);
  }
}

await main();
