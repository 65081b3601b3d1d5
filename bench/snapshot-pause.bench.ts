// How long a coordinated snapshot pauses real QEMU VMs, for clusters of 1, 2 and 4. Prints; asserts
// nothing. Run: npx tsc -p . && node dist/bench/snapshot-pause.bench.js
//
// Each cluster is deployed through the ClusterManager on qemu:///system (128 MiB guests of
// .brine/guest, TCG here), under a site name unique to the run (`bp<random>`) and a data dir of its
// own, and is running for real (every console shows a `tick` line) before it is captured:
//   1. three checkpoints with `method: 'external'` (what brine uses on QEMU: every VM paused at
//      once, an external memory snapshot of each, resume), the second ~10 s after the first;
//   2. as the baseline, in the same run and on the same running cluster, three checkpoints with
//      `method: 'save'` (virDomainSave + virDomainRestore: what Saline did), into a store of its own
//      so its first snapshot writes everything too (each cluster size has fresh stores).
// Per cluster size and method: each VM's own pause → running span (p50/max over every VM of the
// three checkpoints, with the memory dump alone), the cluster's downtime (`downtimeMs`),
// `pauseSkewMs`, the store time and the capture + store total (the `take` call). And the bytes of
// the first external snapshot, and the `newBytes` of the second as a share of the first.
//
// Everything the run creates (domains, networks, consoles, QEMU logs, the data dir) goes in a
// `finally`, and on Ctrl-C / SIGTERM too; nothing outside the run's `brine-bp…-` prefix is touched.
// Without libvirt's QEMU driver or the test guest it says so loudly and exits 0.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ClusterManager, hypervisorLogs, type NodeCapacity } from '../site-agent/clusters.js';
import { pickGuest } from '../site-agent/domain-xml.js';
import type { ImageConfig } from '../site-agent/config.js';
import { SnapshotStore, storeDir } from '../site-agent/snapshot-store/index.js';
import { ClusterSnapshots, type CaptureMethod } from '../site-agent/snapshots.js';
import type { Logger } from '../src/shared/logger.js';
import type { ClusterSpec, ClusterStatus } from '../src/shared/proto.js';
import { freeOctet, GUEST, lines, qemuUnavailable, URI, virsh } from './qemu-host.js';

const SIZES = [1, 2, 4];
const CHECKPOINTS = 3;
/** the second external snapshot is taken this long after the first (first pause to first pause) */
const GAP_MS = 10_000;
/** a booting guest's first tick (4 TCG guests booting at once on 2 cores) */
const BOOT_WAIT_MS = 150_000;
/** a tick after a checkpoint: the guest runs again */
const TICK_WAIT_MS = 60_000;
const MB = 1e6;

const site = `bp${randomBytes(3).toString('hex')}`;
const prefix = `brine-${site}-`;
let dataDir = '';
let manager: ClusterManager | null = null;
/** the most domains of others (not this run's) seen running at a checkpoint: they share the 2 cores */
let othersMax = 0;


// ---------------------------------------------------------------------------------------------
// Cleanup: whatever libvirt holds under this run's prefix, its QEMU logs, the data dir. Once.

let cleaning: Promise<string[]> | null = null;
function cleanup(): Promise<string[]> {
  cleaning ??= (async () => {
    const removed: string[] = [];
    if (manager) await manager.close().catch(() => undefined);
    manager = null;
    const domains = lines(await virsh('list', '--all', '--name').catch(() => '')).filter((n) => n.startsWith(prefix));
    for (const d of domains) {
      await virsh('destroy', d).catch(() => '');
      await virsh('undefine', d).catch(() => '');
      for (const f of hypervisorLogs(URI, d)) rmSync(f, { force: true });
      removed.push(d);
    }
    const networks = lines(await virsh('net-list', '--all', '--name').catch(() => '')).filter((n) => n.startsWith(prefix));
    for (const n of networks) {
      await virsh('net-destroy', n).catch(() => '');
      await virsh('net-undefine', n).catch(() => '');
      removed.push(n);
    }
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    return removed;
  })();
  return cleaning;
}

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    console.log(`\n${sig}: removing everything of site ${site}…`);
    void cleanup().then(
      (removed) => {
        console.log(`removed: ${removed.join(', ') || 'nothing left in libvirt'}; ${dataDir} deleted`);
        process.exit(130);
      },
      () => process.exit(130),
    );
  });
}

// ---------------------------------------------------------------------------------------------

/** The tick counters on a console, last one (0 if none yet). */
function lastTick(file: string): number {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return 0;
  }
  let last = 0;
  for (const m of text.replace(/\r/g, '').matchAll(/^tick (\d+)/gm)) last = Number(m[1]);
  return last;
}

/** Waits (bounded) until every console shows a tick above the one given; returns false on timeout. */
async function ticksAbove(consoles: readonly string[], above: readonly number[], timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (consoles.every((c, i) => lastTick(c) > (above[i] ?? 0))) return true;
    await sleep(200);
  }
  return false;
}

/** Keeps the agent's log events (for the store times). */
function capturingLogger(events: Array<Record<string, unknown>>, bindings: Record<string, unknown> = {}): Logger {
  const log = (fields: Record<string, unknown>, msg: string): void => {
    events.push({ ...bindings, ...fields, msg });
  };
  return { debug: log, info: log, warn: log, error: log, child: (b) => capturingLogger(events, { ...bindings, ...b }) };
}


function spec(jobId: string, k: number, octet: number, tag: number): ClusterSpec {
  const hex = (n: number): string => n.toString(16).padStart(2, '0');
  return {
    jobId,
    jobName: jobId,
    image: 'tiny',
    userData: Buffer.alloc(0),
    meta: {},
    egress: false,
    outputDiskMiB: 0,
    cpus: 1,
    memoryMiB: 128,
    subnet: `10.${octet}.0.0/29`,
    gateway: `10.${octet}.0.1`,
    vms: Array.from({ length: k }, (_, i) => ({
      name: `vm-${i}`,
      node: i % 2 === 0 ? 'n1' : 'n2',
      mac: `02:b9:${hex(octet)}:${hex(tag)}:00:${hex(i + 1)}`,
      ip: `10.${octet}.0.${i + 2}`,
    })),
  };
}

// ---------------------------------------------------------------------------------------------
// Figures

interface VmFigures {
  name: string;
  downMs: number;
  captureMs: number;
  pausedAtMs: number;
}

interface Take {
  id: string;
  method: CaptureMethod;
  downtimeMs: number;
  pauseSkewMs: number;
  vms: VmFigures[];
  storeMs: number;
  totalMs: number;
  firstPause: number;
  totalBytes: number;
  newBytes: number;
  newStoredBytes: number;
  ranAgain: boolean;
}

const pct = (sorted: number[], p: number): number => sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)] ?? NaN;
const sortNum = (xs: number[]): number[] => [...xs].sort((a, b) => a - b);
const p50max = (xs: number[]): string => {
  const s = sortNum(xs);
  return `${pct(s, 0.5)} / ${s[s.length - 1] ?? NaN}`;
};
const list = (xs: number[], f: (n: number) => string = String): string => xs.map(f).join(', ');
const secs = (ms: number): string => (ms / 1000).toFixed(1);
const pad = (s: string, n: number): string => s.padEnd(n);

async function takeOne(snaps: ClusterSnapshots, store: SnapshotStore, events: Array<Record<string, unknown>>, job: string, id: string, method: CaptureMethod): Promise<Take> {
  const t0 = Date.now();
  const snap = await snaps.take({ jobId: job, snapshotId: id, kind: 'checkpoint' });
  const totalMs = Date.now() - t0;
  const m = await store.manifest(id);
  const stored = events.filter((e) => e.msg === 'snapshot: stored' && e.snapshot === id).pop();
  return {
    id,
    method,
    downtimeMs: snap.downtimeMs,
    pauseSkewMs: snap.pauseSkewMs,
    vms: JSON.parse(String(m.meta.vms)) as VmFigures[],
    storeMs: typeof stored?.storeMs === 'number' ? stored.storeMs : NaN,
    totalMs,
    firstPause: Date.parse(snap.createdAt),
    totalBytes: m.totalBytes,
    newBytes: m.newBytes,
    newStoredBytes: m.newStoredBytes,
    ranAgain: true,
  };
}

interface SizeResult {
  k: number;
  bootS: number;
  byMethod: Map<CaptureMethod, Take[]>;
  notes: string[];
}

async function benchSize(k: number, nodes: NodeCapacity[], images: Record<string, ImageConfig>, octetsUsed: Set<number>): Promise<SizeResult> {
  // The run's site in the job id too: domain names carry no site (`brine-<job>-<vm>`), so this keeps
  // the run's domains under its prefix and apart from any other run's on this libvirtd.
  const job = `${site}-k${k}`;
  const m = manager as ClusterManager;
  const notes: string[] = [];
  // Deploy (a fresh /29; another octet if the first turns out to be in use).
  let status: ClusterStatus | null = null;
  const t0 = Date.now();
  for (let attempt = 0; attempt < 3 && !status; attempt++) {
    const octet = await freeOctet(octetsUsed);
    octetsUsed.add(octet);
    try {
      status = await m.deploy(spec(job, k, octet, k));
    } catch (err) {
      notes.push(`deploy on 10.${octet}.0.0/29 failed (${err instanceof Error ? err.message : String(err)}); retrying`);
      await m.destroy(job).catch(() => undefined);
    }
  }
  if (!status) throw new Error(`could not deploy the ${k}-VM cluster: ${notes.join('; ')}`);
  const consoles = status.vms.map((v) => v.console);
  if (!(await ticksAbove(consoles, consoles.map(() => 0), BOOT_WAIT_MS))) {
    throw new Error(`the ${k}-VM cluster's guests printed no tick within ${BOOT_WAIT_MS / 1000} s`);
  }
  const bootS = (Date.now() - t0) / 1000;

  const byMethod = new Map<CaptureMethod, Take[]>();
  for (const method of ['external', 'save'] as const) {
    const events: Array<Record<string, unknown>> = [];
    // A store per cluster and method: each first snapshot writes everything (no chunks of another).
    const store = await SnapshotStore.open(join(storeDir(dataDir), `${job}-${method}`));
    const snaps = new ClusterSnapshots({ clusters: m, store, dataDir, site: { nodes, images }, logger: capturingLogger(events), method });
    const takes: Take[] = [];
    for (let n = 1; n <= CHECKPOINTS; n++) {
      if (method === 'external' && n === 2) {
        const wait = (takes[0]?.firstPause ?? 0) + GAP_MS - Date.now();
        if (wait > 0) await sleep(wait);
      }
      const others = lines(await virsh('list', '--name').catch(() => '')).filter((d) => !d.startsWith(prefix)).length;
      othersMax = Math.max(othersMax, others);
      const before = consoles.map(lastTick);
      const t = await takeOne(snaps, store, events, job, `${job}-${method}-${n}`, method);
      // Running again for real: every guest prints its next tick (bounded).
      t.ranAgain = await ticksAbove(consoles, before, TICK_WAIT_MS);
      if (!t.ranAgain) notes.push(`after ${t.id} not every guest ticked again within ${TICK_WAIT_MS / 1000} s`);
      takes.push(t);
    }
    byMethod.set(method, takes);
  }
  await m.destroy(job);
  return { k, bootS, byMethod, notes };
}

function printResults(results: SizeResult[]): void {
  const label = (m: CaptureMethod): string => (m === 'external' ? 'external (brine)' : 'save+restore');
  console.log(`\n1. Pause per VM and per cluster (${CHECKPOINTS} checkpoints per method, on the same running cluster; ms unless s)`);
  console.log(
    `   ${pad('VMs', 5)}${pad('method', 18)}${pad('VM pause p50/max', 18)}${pad('dump p50/max', 15)}${pad('downtime (each ckpt)', 24)}${pad('skew', 13)}${pad('store s (each)', 18)}capture+store s (each)`,
  );
  for (const r of results) {
    for (const [method, takes] of r.byMethod) {
      const vmDown = takes.flatMap((t) => t.vms.map((v) => v.downMs));
      const dumps = takes.flatMap((t) => t.vms.map((v) => v.captureMs));
      console.log(
        `   ${pad(String(r.k), 5)}${pad(label(method), 18)}${pad(p50max(vmDown), 18)}${pad(p50max(dumps), 15)}${pad(list(takes.map((t) => t.downtimeMs)), 24)}${pad(list(takes.map((t) => t.pauseSkewMs)), 13)}${pad(list(takes.map((t) => t.storeMs), secs), 18)}${list(takes.map((t) => t.totalMs), secs)}`,
      );
    }
  }
  console.log('   VM pause = one VM\'s own pause → running span (meta.vms[].downMs), over every VM of the checkpoints;');
  console.log('   dump = the memory snapshot (external) or virDomainSave (save) alone; downtime = downtimeMs (longest VM pause);');
  console.log('   skew = pauseSkewMs; store = chunk+hash+compress+fsync after the resume; capture+store = the whole take() call.');

  console.log(`\n2. Side by side: cluster downtime p50 / max over the ${CHECKPOINTS} checkpoints`);
  console.log(`   ${pad('VMs', 5)}${pad('external (brine)', 20)}${pad('save+restore', 20)}ratio (p50)`);
  for (const r of results) {
    const d = (m: CaptureMethod): number[] => sortNum((r.byMethod.get(m) ?? []).map((t) => t.downtimeMs));
    const e = d('external');
    const s = d('save');
    console.log(`   ${pad(String(r.k), 5)}${pad(`${pct(e, 0.5)} / ${e[e.length - 1]} ms`, 20)}${pad(`${pct(s, 0.5)} / ${s[s.length - 1]} ms`, 20)}${(pct(s, 0.5) / pct(e, 0.5)).toFixed(1)}×`);
  }

  console.log(`\n3. Bytes: the first external snapshot, and the second (~${GAP_MS / 1000} s later) as a share of the first`);
  for (const r of results) {
    const [a, b] = r.byMethod.get('external') ?? [];
    if (!a || !b) continue;
    console.log(
      `   ${r.k} VM${r.k > 1 ? 's' : ' '}: first ${(a.totalBytes / MB).toFixed(1)} MB (${(a.newBytes / MB).toFixed(1)} MB in distinct chunks, ${(a.newStoredBytes / MB).toFixed(1)} MB written compressed); ` +
        `second ${secs(b.firstPause - a.firstPause)} s later: newBytes ${(b.newBytes / MB).toFixed(1)} MB = ${((100 * b.newBytes) / a.totalBytes).toFixed(1)} % of the first ` +
        `(${(b.newStoredBytes / MB).toFixed(1)} MB written = ${((100 * b.newStoredBytes) / a.newStoredBytes).toFixed(1)} % of the first's writes)`,
    );
  }
  const notes = results.flatMap((r) => r.notes.map((n) => `${r.k} VM${r.k > 1 ? 's' : ''}: ${n}`));
  console.log(`\n   boot to first tick: ${results.map((r) => `${r.k} VM${r.k > 1 ? 's' : ''} ${r.bootS.toFixed(0)} s`).join(', ')}`);
  console.log(`   every guest ticked again after every checkpoint: ${notes.some((n) => n.includes('ticked')) ? 'NO' : 'yes'}`);
  for (const n of notes) console.log(`   note: ${n}`);
}

async function main(): Promise<void> {
  const why = await qemuUnavailable();
  if (why) {
    const bar = '!'.repeat(78);
    console.log(`${bar}\n!! snapshot pause benchmark NOT RUN: ${why}\n!! (needs libvirtd with QEMU and the test guest: npm run setup:qemu)\n${bar}`);
    return;
  }
  const caps = await virsh('capabilities');
  const accel = pickGuest(caps).why;
  const others = lines(await virsh('list', '--name')).filter((n) => !n.startsWith(prefix)).length;
  const load = (await readFile('/proc/loadavg', 'utf8').catch(() => '?')).split(' ').slice(0, 3).join(' ');
  console.log(`snapshot pause benchmark — site ${site}, ${URI}, ${accel}, ${cpus().length} cores, node ${process.versions.node}`);
  console.log(`   128 MiB guests of ${GUEST}; clusters of ${SIZES.join(', ')} VMs; load at start ${load}; other running domains on the host: ${others}`);

  dataDir = mkdtempSync(join(tmpdir(), 'brine-pausebench-'));
  const cmdline = (await readFile(join(GUEST, 'cmdline'), 'utf8')).trim();
  const images: Record<string, ImageConfig> = {
    tiny: { kind: 'kernel', kernel: join(GUEST, 'vmlinuz'), initrd: join(GUEST, 'initrd.img'), cmdline },
  };
  // Two nodes on the same libvirtd, as in the QEMU tests; each VM has its own connection anyway.
  const nodes: NodeCapacity[] = [1, 2].map((n) => ({ name: `n${n}`, uri: URI, cpus: 2, memoryMiB: 2048 }));
  const started = Date.now();
  const results: SizeResult[] = [];
  try {
    manager = await ClusterManager.open({ site, dataDir, nodes, images });
    const octets = new Set<number>();
    for (const k of SIZES) {
      const t = Date.now();
      results.push(await benchSize(k, nodes, images, octets));
      console.log(`   … ${k} VM${k > 1 ? 's' : ''} done in ${secs(Date.now() - t)} s`);
    }
  } finally {
    const removed = await cleanup();
    if (results.length > 0) printResults(results);
    const loadEnd = (await readFile('/proc/loadavg', 'utf8').catch(() => '?')).split(' ').slice(0, 3).join(' ');
    console.log(`\n   load at end ${loadEnd}; most domains of others running at a checkpoint: ${othersMax}`);
    console.log(`   total ${secs(Date.now() - started)} s; cleanup: ${removed.length === 0 ? 'nothing of the run left in libvirt' : `removed leftovers ${removed.join(', ')}`}, data dir deleted`);
  }
}

await main();
