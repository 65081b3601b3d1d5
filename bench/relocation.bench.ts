// Relocation of a real QEMU cluster (2 and 4 VMs of 128 MiB, .brine/guest, qemu:///system) from one
// site to another with `brine migrate JOB --to B`, with and without a prior replica of its last
// checkpoint at the destination, against what Saline did: a plain sequential script, for each VM in
// turn, of `virsh save` → copy the file (`cp` to another directory, for the network copy) →
// `virsh restore` (same libvirtd, original domain removed first). Prints; asserts nothing.
// Run: npx tsc -p . && node dist/bench/relocation.bench.js
//
// Per cluster size:
//   1. no replica: a grid (real coordinator + agents `rb<hex>-a`, `rb<hex>-b`, `snapshots.replicas: 0`
//      on both): `brine submit --wait` on site-a, every console ticks, `brine migrate JOB --to
//      rb<hex>-b` timed, then `brine show` says RUNNING on site-b and every console ticks again;
//   2. with a replica: another grid (`rb<hex>r-a`, `rb<hex>r-b`, `replicas: 1` on site-a): the same,
//      but first `brine snapshot JOB` and a wait until `brine snapshots JOB --json` lists site-b
//      among that snapshot's sites (copied there in the background), then the timed migrate;
//   3. the virsh script, on the VMs of 2. once they run on site-b: the grid's processes are killed
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
import { GUEST, lines, qemuUnavailable, run, URI, virsh } from './qemu-host.js';

const SIZES = [2, 4];
/** a booting cluster's first ticks (4 TCG guests at once on 2 cores) */
const BOOT_WAIT_MS = 150_000;
/** a tick after a move / restore */
const TICK_WAIT_MS = 90_000;
/** the background replica of a checkpoint reaching site-b */
const REPLICA_WAIT_MS = 150_000;
/** skip the 4-VM case if the run has used more than this by then (the whole run should stay < ~8 min) */
const BUDGET_FOR_4_MS = 200_000;

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

interface SizeResult {
  k: number;
  bootMs: number[];
  none: MoveResult;
  replica: MoveResult;
  script: ScriptResult | null;
  notes: string[];
}

/** A /22 pair (10.O.0.0/22 for site-a, 10.O.4.0/22 for site-b) no host interface uses. */
async function freeOctet(taken: Set<number>): Promise<number> {
  const used = new Set<number>(taken);
  const addrs = (await run('ip', ['-4', '-o', 'addr']).catch(() => ({ stdout: '' }))).stdout;
  for (const m of addrs.matchAll(/inet 10\.(\d+)\./g)) used.add(Number(m[1]));
  for (let i = 0; i < 200; i++) {
    const o = 100 + ((randomBytes(1)[0] as number) % 60); // 10.100–159: below the QEMU tests' 160–249
    if (!used.has(o)) return o;
  }
  throw new Error('no free 10.x.0.0/21 for the benchmark sites');
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

async function moveOnce(k: number, siteA: string, siteB: string, replica: boolean, octet: number, keepGrid: boolean): Promise<{ r: MoveResult; bootMs: number; grid: TestGrid; job: Job }> {
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
    const m = await cli('migrate', before.id, '--to', siteB, '--json');
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
    const snapDone = moveLines.find((h) => h.state === 'RELOCATING' && h.reason.startsWith('final snapshot'));
    const resuming = moveLines.find((h) => h.state === 'RESUMING');
    const span = (a: number, b: number): string => (Number.isNaN(a) || Number.isNaN(b) ? '?' : secs(b - a));
    const phases = `snapshot ${span(at(reloc), at(snapDone))} + transfer ${span(at(snapDone), at(resuming))} + restore ${span(at(resuming), at(running))} s`;
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
  const o1 = await freeOctet(octets);
  octets.add(o1);
  const none = await moveOnce(k, `${tag}-a`, `${tag}-b`, false, o1, false);
  await cleanLibvirt(new Set([`${tag}-a`, `${tag}-b`]));
  console.log(`   … ${k} VMs, no replica: migrate ${secs(none.r.moveMs)} s`);

  const o2 = await freeOctet(octets);
  octets.add(o2);
  const rep = await moveOnce(k, `${tag}r-a`, `${tag}r-b`, true, o2, true);
  console.log(`   … ${k} VMs, with replica: migrate ${secs(rep.r.moveMs)} s`);

  // The baseline on those very VMs, now running on site-b: the grid goes first (its agents would
  // see the domains stop), the domains stay in libvirt.
  let script: ScriptResult | null = null;
  try {
    for (const name of [...rep.grid.procs.keys()]) await rep.grid.kill(name, 'SIGKILL');
    if (rep.job.state === 'RUNNING' && rep.job.site === `${tag}r-b`) {
      script = await virshScript(rep.job);
      console.log(`   … ${k} VMs, virsh save → cp → restore: ${secs(script.totalMs)} s`);
    } else notes.push('virsh script not run: the job did not end up RUNNING on site-b');
  } catch (err) {
    notes.push(`virsh script failed: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
  } finally {
    await closeGrid(rep.grid);
    await cleanLibvirt(new Set([`${tag}r-a`, `${tag}r-b`]));
  }
  for (const [what, r] of [['no replica', none.r], ['with replica', rep.r]] as const) {
    if (!r.ok) notes.push(`${what}: not every guest ticked again within ${TICK_WAIT_MS / 1000} s`);
    if (r.note) notes.push(`${what}: ${r.note}`);
  }
  if (script && !script.ok) notes.push(`virsh script: not every guest ticked again within ${TICK_WAIT_MS / 1000} s`);
  return { k, bootMs: [none.bootMs, rep.bootMs], none: none.r, replica: rep.r, script, notes };
}

function printResults(results: SizeResult[]): void {
  const maxGap = (g: number[]): string => (g.length ? `${secs(Math.max(...g))} s` : '–');
  console.log('\n1. Relocation wall time (s): `brine migrate` returns (job RUNNING on site-b) | the virsh script ends');
  console.log(`   ${pad('VMs', 5)}${pad('brine, no replica', 20)}${pad('brine, with replica', 22)}virsh save→cp→restore, sequential`);
  for (const r of results) {
    console.log(`   ${pad(String(r.k), 5)}${pad(secs(r.none.moveMs), 20)}${pad(secs(r.replica.moveMs), 22)}${r.script ? secs(r.script.totalMs) : '–'}`);
  }
  console.log('\n2. Until every guest ticked again (s, from the start of the move / script)');
  console.log(`   ${pad('VMs', 5)}${pad('brine, no replica', 20)}${pad('brine, with replica', 22)}virsh script`);
  for (const r of results) {
    console.log(`   ${pad(String(r.k), 5)}${pad(secs(r.none.tickingMs), 20)}${pad(secs(r.replica.tickingMs), 22)}${r.script ? secs(r.script.tickingMs) : '–'}`);
  }
  console.log('\n3. Downtime the guests saw: longest gap between two new ticks on a console, worst VM (each VM: …)');
  console.log(`   ${pad('VMs', 5)}${pad('brine, no replica', 34)}${pad('brine, with replica', 34)}virsh script`);
  const each = (g: number[]): string => `${maxGap(g)} (${g.map((x) => secs(x)).join('/')})`;
  for (const r of results) {
    console.log(`   ${pad(String(r.k), 5)}${pad(each(r.none.gaps), 34)}${pad(each(r.replica.gaps), 34)}${r.script ? each(r.script.gaps) : '–'}`);
  }
  console.log('   (ticks come once a second: a gap includes up to ~1 s of tick period; polled every 100 ms. The script stops one VM at a');
  console.log('   time, so each VM is down only for its own save+restore, but the cluster is whole again only when the script ends: table 1)');

  console.log('\n4. Details');
  for (const r of results) {
    const h = (m: MoveResult): string => (m.historyMs === null ? '?' : secs(m.historyMs));
    console.log(
      `   ${r.k} VMs: history RELOCATING→RUNNING ${h(r.none)} s (${r.none.phases}, no replica), ${h(r.replica)} s (${r.replica.phases}, with replica); ` +
        `replica: \`brine snapshot\` ${r.replica.snapshotMs !== undefined ? secs(r.replica.snapshotMs) : '?'} s, on site-b ${r.replica.replicaWaitMs !== undefined ? secs(r.replica.replicaWaitMs) : '?'} s after it started; ` +
        `submit → ticking ${r.bootMs.map(secs).join(' / ')} s`,
    );
    if (r.script) {
      const v = r.script.perVm;
      console.log(`        virsh per VM (save/cp/restore s, file MB): ${v.map((x) => `${secs(x.save)}/${secs(x.cp)}/${secs(x.restore)} ${x.mb.toFixed(0)}`).join(', ')}`);
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
  console.log(`relocation benchmark — sites ${tag}-a/-b (no replica), ${tag}r-a/-b (replicas: 1), ${URI}, ${accel}, ${cpus().length} cores, node ${process.versions.node}`);
  console.log(`   128 MiB guests of ${GUEST}; clusters of ${SIZES.join(', ')} VMs; load at start ${load}; other running domains: ${others}`);
  const started = Date.now();
  const results: SizeResult[] = [];
  const skipped: string[] = [];
  let removed: string[] = [];
  try {
    const octets = new Set<number>();
    for (const k of SIZES) {
      if (k > 2 && Date.now() - started > BUDGET_FOR_4_MS) {
        skipped.push(`${k} VMs skipped: the run had already taken ${secs(Date.now() - started)} s (budget ~8 min)`);
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
