// Issue 10 point 3: what a placement decision and a heartbeat cost the coordinator as the number
// of live jobs grows (1k, 10k, 50k on 200 sites × 20 nodes), with the job index (incremental
// capacity, jobs by site) beside the full scans each pass and heartbeat did before, measured in
// the same run on the same records. In-process and CPU only: the end-to-end figures (gRPC, commits)
// are grid.bench's. Prints; asserts nothing.
import { performance } from 'node:perf_hooks';
import { capacities } from '../src/coordinator/capacity.js';
import { holdingsOf, JobIndex } from '../src/coordinator/job-index.js';
import { planReconcile } from '../src/coordinator/reconcile.js';
import { rankSites, type SiteCapacity } from '../src/coordinator/scheduler.js';
import type { JobRecord, SiteRecord } from '../src/coordinator/store.js';

const SITES = 200;
const NODES = 20;

function sites(): SiteRecord[] {
  return Array.from({ length: SITES }, (_, s) => ({
    name: `site-${s}`,
    advertise: `127.0.0.1:${10_000 + s}`,
    nodes: Array.from({ length: NODES }, (_, n) => ({ name: `n${n}`, uri: 'test:///default', cpus: 64, memoryMiB: 262_144, arch: 'x86_64', domainType: 'kvm', domainTypes: ['kvm'], cpuModel: '' })),
    images: ['tiny'],
    subnetPool: `10.${s % 250}.0.0/16`,
    macRange: '02:b1:00:00:00:00/24',
    instance: 'i',
    defaultCheckpointEvery: '',
    reclaimedNodes: [],
    snapshotsKeep: 3,
  }));
}

function jobs(n: number): JobRecord[] {
  return Array.from({ length: n }, (_, i) => {
    const site = `site-${i % SITES}`;
    return {
      id: `j${i}`,
      name: `b${i}`,
      owner: 'bench',
      state: 'RUNNING',
      site,
      pinnedSite: '',
      subnet: '',
      gateway: '',
      vms: [{ name: `b${i}-0`, node: `n${(i >> 8) % NODES}`, mac: '', ip: '', state: 'RUNNING', domain: '', console: '' }],
      vmCount: 1,
      cpus: 1,
      memoryMiB: 64,
      image: 'tiny',
      checkpointEvery: '30m',
      lastSnapshot: '',
      createdAt: new Date(1_700_000_000_000 + i).toISOString(),
      history: [],
      deployAttempts: 0,
    };
  });
}

/** The capacity computation every pass did before the index: every live job's holdings, every pass. */
function fullScanCapacities(siteRecords: SiteRecord[], all: JobRecord[]): Map<string, SiteCapacity> {
  const use = new Map<string, { usedCpus: number; usedMemoryMiB: number }>();
  for (const job of all) {
    for (const h of holdingsOf(job)) {
      const key = `${h.site}/${h.node}`;
      const u = use.get(key) ?? { usedCpus: 0, usedMemoryMiB: 0 };
      u.usedCpus += h.cpus;
      u.usedMemoryMiB += h.memoryMiB;
      use.set(key, u);
    }
  }
  return capacities(siteRecords, (s, n) => use.get(`${s}/${n}`), () => true);
}

function timeIt(runs: number, fn: () => void): { p50: number; p99: number } {
  const t: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    t.push(performance.now() - t0);
  }
  t.sort((a, b) => a - b);
  return { p50: t[Math.floor(runs / 2)] as number, p99: t[Math.min(runs - 1, Math.floor(runs * 0.99))] as number };
}

const req = { vms: 2, cpus: 2, memoryMiB: 512, image: 'tiny' };
const siteRecords = sites();
const rows: string[][] = [];
for (const n of [1_000, 10_000, 50_000]) {
  const all = jobs(n);
  const index = new JobIndex();
  const tb = performance.now();
  index.rebuild(all);
  const rebuildMs = performance.now() - tb;
  const withIndex = timeIt(200, () => rankSites(capacities(siteRecords, (s, node) => index.nodeUse(s, node), () => true).values(), req));
  const fullScan = timeIt(50, () => rankSites(fullScanCapacities(siteRecords, all).values(), req));
  const base = { site: 'site-7', reported: [], partial: false, inflight: new Set<string>(), settled: () => true, releasing: [] };
  const hbIndex = timeIt(500, () => planReconcile({ ...base, jobs: index.at('site-7') }));
  const hbScan = timeIt(100, () => planReconcile({ ...base, jobs: all }));
  const f = (x: number) => x.toFixed(3);
  rows.push([
    n.toLocaleString('en'),
    `${f(withIndex.p50)} / ${f(withIndex.p99)}`,
    `${f(fullScan.p50)} / ${f(fullScan.p99)}`,
    `${f(hbIndex.p50)} / ${f(hbIndex.p99)}`,
    `${f(hbScan.p50)} / ${f(hbScan.p99)}`,
    rebuildMs.toFixed(1),
  ]);
}
console.log(`\nplacement and heartbeat cost in the coordinator (${SITES} sites × ${NODES} nodes, one process, CPU only; ms p50 / p99)`);
const head = ['live jobs', 'placement decision, job index', 'same, full scan (before)', 'heartbeat diff, jobs of the site', 'same, every job (before)', 'index rebuild at start, ms'];
const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
for (const r of [head, ...rows]) console.log(r.map((c, i) => c.padEnd(widths[i] as number)).join('  '));
console.log('placement decision = capacities of every site + ranking them for a 2-VM job; the pass adds its commit (see grid.bench).');
