// Time per placement (reserve + release) of the address allocator on a /12 pool that is 90% used,
// for K = 4, 30 and 200 VMs, against a naive allocator that scans address and MAC bitmaps for a
// free block, measured in the same run on the same state. Prints; asserts nothing.
// Run: npx tsc -p . && node dist/bench/addresses.bench.js
//
// Two layouts of the same 90%: "fragmented" (filled to 95% with clusters of 1–30 VMs, then random
// clusters ended down to 90%) and "in order" (filled to 90%, nothing ended: the free space is all
// at the end, the naive scan's worst case).
//
// The 90% state is built in a worker thread and handed over as leases, which the main thread
// restores, as a restarted coordinator would. Building it in-process would make V8 pretenure the
// lease objects (38,000 long-lived reserves from the same code), after which every probe lease,
// released at once, is garbage in the old generation: a benchmark artifact that made the garbage
// collector 80% of the measured time and that a coordinator placing long-lived clusters never sees.
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { AddressAllocator, type ClusterLease } from '../src/coordinator/address-allocator.js';
import {
  formatCidr,
  formatIp,
  formatMac,
  gatewayAddress,
  parseCidr,
  parseMac,
  parseMacRange,
  parseSubnetPool,
  subnetSizeFor,
  vmAddresses,
} from '../src/shared/addresses.js';

const SITE = 'bench';
const POOL = '10.0.0.0/12';
const MACS = '02:b1:00:00:00:00/24';
const TARGET_USED = 0.9;
const KS = [4, 30, 200];
const ITERATIONS = 5000;
const NAIVE_ITERATIONS = 200;

type Layout = 'fragmented' | 'in order';

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const vmNames = (k: number): string[] => Array.from({ length: k }, (_, i) => `vm${i}`);

function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

/** Worker side: fill a pool to 90% in the given layout and return its leases. */
function fill(layout: Layout): ClusterLease[] {
  const alloc = new AddressAllocator();
  alloc.addSite(SITE, POOL, MACS);
  const rnd = mulberry32(0x90);
  const total = Number(alloc.usage(SITE).totalAddresses);
  const used = (): number => total - Number(alloc.usage(SITE).freeAddresses);
  const jobs: string[] = [];
  const upTo = layout === 'fragmented' ? 0.95 : TARGET_USED;
  for (let n = 0; used() < upTo * total; n++) {
    const job = `fill${n}`;
    if (!alloc.reserve(SITE, job, vmNames(1 + Math.floor(rnd() * 30))).ok) break;
    jobs.push(job);
  }
  while (used() > TARGET_USED * total) {
    const i = Math.floor(rnd() * jobs.length);
    const job = jobs[i] as string;
    jobs[i] = jobs[jobs.length - 1] as string;
    jobs.pop();
    alloc.release(SITE, job);
  }
  return alloc.exportLeases();
}

function filledInWorker(layout: Layout): Promise<ClusterLease[]> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL(import.meta.url), { workerData: layout });
    worker.once('message', (leases: ClusterLease[]) => resolve(leases));
    worker.once('error', reject);
  });
}

type Taken = { start: number; size: number; macs: number[] };

/** The baseline: one byte per address and per MAC, first fit by scanning; builds the same lease. */
class NaiveAllocator {
  private readonly ips: Uint8Array;
  private readonly macs: Uint8Array;
  private readonly poolNetwork: bigint;
  private readonly macFirst: number;

  constructor(leases: readonly ClusterLease[]) {
    const pool = parseSubnetPool(POOL, 'pool');
    const range = parseMacRange(MACS, 'macs');
    this.poolNetwork = pool.network;
    this.macFirst = Number(range.first);
    this.ips = new Uint8Array(2 ** (32 - pool.prefix));
    this.macs = new Uint8Array(Number(range.last - range.first + 1n));
    for (const l of leases) {
      const subnet = parseCidr(l.subnet, 'subnet');
      const start = Number(subnet.network - pool.network);
      this.ips.fill(1, start, start + 2 ** (32 - subnet.prefix));
      for (const v of l.vms) this.macs[Number(parseMac(v.mac, 'mac')) - this.macFirst] = 1;
    }
  }

  reserve(job: string, names: readonly string[]): { lease: ClusterLease; taken: Taken } | undefined {
    const k = names.length;
    const prefix = subnetSizeFor(k, 4);
    const size = 2 ** (32 - prefix);
    let start = -1;
    for (let b = 0; b + size <= this.ips.length && start < 0; b += size) {
      let free = true;
      for (let i = b; i < b + size; i++) {
        if (this.ips[i]) {
          free = false;
          break;
        }
      }
      if (free) start = b;
    }
    if (start < 0) return undefined;
    const macs: number[] = [];
    for (let m = 0; m < this.macs.length && macs.length < k; m++) if (!this.macs[m]) macs.push(m);
    if (macs.length < k) return undefined;
    this.ips.fill(1, start, start + size);
    for (const m of macs) this.macs[m] = 1;
    const network = this.poolNetwork + BigInt(start);
    const ips = vmAddresses(network, k, 4);
    const lease: ClusterLease = Object.freeze({
      site: SITE,
      job,
      subnet: formatCidr(network, prefix, 4),
      gateway: formatIp(gatewayAddress(network), 4),
      vms: Object.freeze(
        names.map((vm, i) => Object.freeze({ vm, mac: formatMac(this.macFirst + (macs[i] as number)), ip: ips[i] as string })),
      ),
      state: 'reserved',
    });
    return { lease, taken: { start, size, macs } };
  }

  release(taken: Taken): void {
    this.ips.fill(0, taken.start, taken.start + taken.size);
    for (const m of taken.macs) this.macs[m] = 0;
  }
}

function timeUs(fn: () => void): number {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1000;
}

const us = (v: number): string => `${v < 10 ? v.toFixed(1) : v.toFixed(0)} µs`;

async function main(): Promise<void> {
  const rows: string[][] = [['layout', 'K', 'subnet', 'allocator p50', 'p99', 'naive scan p50', 'p99', 'p50 ×']];
  const notes: string[] = [];
  for (const layout of ['fragmented', 'in order'] as const) {
    let leases: ClusterLease[] | undefined = await filledInWorker(layout);
    const t0 = process.hrtime.bigint();
    const alloc = AddressAllocator.restore([{ site: SITE, pool: POOL, macRange: MACS }], leases);
    const restoreMs = Number(process.hrtime.bigint() - t0) / 1e6;
    const naive = new NaiveAllocator(leases);
    leases = undefined; // only the allocator's copy stays alive
    const u = alloc.usage(SITE);
    const used = 1 - Number(u.freeAddresses) / Number(u.totalAddresses);
    notes.push(
      `${layout}: ${(used * 100).toFixed(1)}% of ${u.totalAddresses} addresses used by ${u.liveLeases} clusters, ` +
        `largest free block /${u.largestFreePrefix}, restored in ${restoreMs.toFixed(0)} ms`,
    );

    for (const k of KS) {
      const names = vmNames(k);
      const place = (): void => {
        const r = alloc.reserve(SITE, 'probe', names);
        if (!r.ok) throw new Error(r.reason);
        alloc.release(SITE, 'probe');
      };
      for (let i = 0; i < 500; i++) place(); // warm up the JIT
      const fast: number[] = [];
      for (let i = 0; i < ITERATIONS; i++) fast.push(timeUs(place));

      const slow: number[] = [];
      const naivePlace = (): void => {
        const r = naive.reserve('probe', names);
        if (!r) throw new Error(`naive: no room for ${k} VMs`);
        naive.release(r.taken);
      };
      for (let i = 0; i < 20; i++) naivePlace();
      for (let i = 0; i < NAIVE_ITERATIONS; i++) slow.push(timeUs(naivePlace));

      const f50 = percentile(fast, 50);
      const s50 = percentile(slow, 50);
      rows.push([
        layout,
        String(k),
        `/${subnetSizeFor(k, 4)}`,
        us(f50),
        us(percentile(fast, 99)),
        us(s50),
        us(percentile(slow, 99)),
        `${(s50 / f50).toFixed(s50 / f50 < 10 ? 1 : 0)}`,
      ]);
    }
  }

  console.log(`address allocator: pool ${POOL}, MAC range ${MACS}, 90% used`);
  for (const n of notes) console.log(`  ${n}`);
  console.log(
    `time per placement = reserve + release of one cluster (lease built either way); ` +
      `allocator: ${ITERATIONS} runs, naive bitmap scan: ${NAIVE_ITERATIONS} runs\n`,
  );
  const widths = (rows[0] as string[]).map((_, c) => Math.max(...rows.map((r) => (r[c] as string).length)));
  for (const r of rows) {
    console.log(r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c] ?? 0) : cell.padStart(widths[c] ?? 0))).join('  '));
  }
}

if (isMainThread) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
} else {
  parentPort?.postMessage(fill(workerData as Layout));
}
