// Time per placement (reserve + release) of the address allocator on a /12 pool that is 90% used and
// fragmented, for K = 4, 30 and 200 VMs, against a naive allocator that scans address and MAC
// bitmaps for a free block, measured in the same run on the same state. Prints; asserts nothing.
// Run: npx tsc -p . && node dist/bench/addresses.bench.js
import { AddressAllocator, type ClusterLease } from '../src/coordinator/address-allocator.js';
import { parseCidr, parseMac, parseMacRange, parseSubnetPool, subnetSizeFor } from '../src/shared/addresses.js';

const SITE = 'bench';
const POOL = '10.0.0.0/12';
const MACS = '02:b1:00:00:00:00/24';
const TARGET_USED = 0.9;
const KS = [4, 30, 200];
const ITERATIONS = 5000;
const NAIVE_ITERATIONS = 200;

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

/** Fill with clusters of 1–30 VMs to 95%, then end random ones down to 90%: used and fragmented. */
function fill(alloc: AddressAllocator): number {
  const rnd = mulberry32(0x90);
  const u0 = alloc.usage(SITE);
  const total = Number(u0.totalAddresses);
  const used = (): number => total - Number(alloc.usage(SITE).freeAddresses);
  const jobs: string[] = [];
  let n = 0;
  while (used() < 0.95 * total) {
    const job = `fill${n++}`;
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
  return used() / total;
}

/** The baseline: one byte per address and per MAC, first fit by scanning. */
class NaiveAllocator {
  private readonly ips: Uint8Array;
  private readonly macs: Uint8Array;
  constructor(
    private readonly poolNetwork: bigint,
    poolSize: number,
    private readonly macFirst: bigint,
    macSize: number,
    leases: ClusterLease[],
  ) {
    this.ips = new Uint8Array(poolSize);
    this.macs = new Uint8Array(macSize);
    for (const l of leases) {
      const subnet = parseCidr(l.subnet, 'subnet');
      const start = Number(subnet.network - poolNetwork);
      this.ips.fill(1, start, start + 2 ** (32 - subnet.prefix));
      for (const v of l.vms) this.macs[Number(parseMac(v.mac, 'mac') - macFirst)] = 1;
    }
  }

  /** Returns what was taken so that release can give it back. */
  reserve(k: number): { start: number; size: number; macs: number[] } | undefined {
    const size = 2 ** (32 - subnetSizeFor(k, 4));
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
    return { start, size, macs };
  }

  release(taken: { start: number; size: number; macs: number[] }): void {
    this.ips.fill(0, taken.start, taken.start + taken.size);
    for (const m of taken.macs) this.macs[m] = 0;
  }
}

function timeUs(fn: () => void): number {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1000;
}

function main(): void {
  const alloc = new AddressAllocator();
  alloc.addSite(SITE, POOL, MACS);
  const t0 = process.hrtime.bigint();
  const usedFraction = fill(alloc);
  const fillMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const u = alloc.usage(SITE);

  const pool = parseSubnetPool(POOL, 'pool');
  const range = parseMacRange(MACS, 'macs');
  const naive = new NaiveAllocator(
    pool.network,
    Number(u.totalAddresses),
    range.first,
    Number(u.totalMacs),
    alloc.exportLeases(),
  );

  const rows: string[][] = [['K', 'subnet', 'buddy p50', 'buddy p99', 'naive p50', 'naive p99', 'p50 ratio']];
  for (const k of KS) {
    const vms = vmNames(k);
    const place = (): void => {
      const r = alloc.reserve(SITE, 'probe', vms);
      if (!r.ok) throw new Error(r.reason);
      alloc.release(SITE, 'probe');
    };
    for (let i = 0; i < 500; i++) place(); // warm up the JIT
    const fast: number[] = [];
    for (let i = 0; i < ITERATIONS; i++) fast.push(timeUs(place));

    const slow: number[] = [];
    for (let i = 0; i < NAIVE_ITERATIONS + 10; i++) {
      const us = timeUs(() => {
        const taken = naive.reserve(k);
        if (!taken) throw new Error(`naive: no room for ${k} VMs`);
        naive.release(taken);
      });
      if (i >= 10) slow.push(us);
    }
    const f50 = percentile(fast, 50);
    const s50 = percentile(slow, 50);
    rows.push([
      String(k),
      `/${subnetSizeFor(k, 4)}`,
      `${f50.toFixed(1)} µs`,
      `${percentile(fast, 99).toFixed(1)} µs`,
      `${s50.toFixed(1)} µs`,
      `${percentile(slow, 99).toFixed(1)} µs`,
      `${Math.round(s50 / f50)}×`,
    ]);
  }

  console.log(
    `address allocator, pool ${POOL} (${u.totalAddresses} addresses) ${(usedFraction * 100).toFixed(1)}% used by ` +
      `${u.liveLeases} clusters of 1–30 VMs (filled in ${fillMs.toFixed(0)} ms), largest free block /${u.largestFreePrefix}; ` +
      `MAC range ${range.text}`,
  );
  console.log(`time per placement = reserve + release; buddy: ${ITERATIONS} runs, naive bitmap scan: ${NAIVE_ITERATIONS} runs`);
  const widths = (rows[0] as string[]).map((_, c) => Math.max(...rows.map((r) => (r[c] as string).length)));
  for (const r of rows) console.log(r.map((cell, c) => (c < 2 ? cell.padEnd(widths[c] ?? 0) : cell.padStart(widths[c] ?? 0))).join('   '));
}

main();
