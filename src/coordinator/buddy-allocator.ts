// Subnets of a site's pool: a buddy allocator over its address space (pure).
import { type Cidr, MAX_POOL_BITS, familyBits } from '../shared/addresses.js';
import { InternalError } from '../shared/errors.js';
import { ChurnMap } from './churn-map.js';
function heapPush(h: number[], v: number): void {
  h.push(v);
  let i = h.length - 1;
  while (i > 0) {
    const p = (i - 1) >> 1;
    if ((h[p] as number) <= v) break;
    h[i] = h[p] as number;
    i = p;
  }
  h[i] = v;
}

function heapPop(h: number[]): number | undefined {
  const top = h[0];
  const last = h.pop();
  if (top === undefined || last === undefined || h.length === 0) return top;
  let i = 0;
  const n = h.length;
  for (;;) {
    const l = 2 * i + 1;
    if (l >= n) break;
    const r = l + 1;
    const c = r < n && (h[r] as number) < (h[l] as number) ? r : l;
    if ((h[c] as number) >= last) break;
    h[i] = h[c] as number;
    i = c;
  }
  h[i] = last;
  return top;
}

const byNumber = (a: number, b: number): number => a - b;

export class BuddyAllocator {
  private readonly bits: number;
  /** Free blocks (offsets) per prefix length: the map is the truth, the heap orders it (lazily pruned). */
  private readonly free: Array<ChurnMap<number, true>>;
  private heaps: number[][];
  /** Block size per prefix length. */
  private readonly sizes: number[];
  private freeCount: number;

  constructor(readonly pool: Cidr) {
    this.bits = familyBits(pool.family);
    if (this.bits - pool.prefix > MAX_POOL_BITS) throw new InternalError(`pool ${pool.cidr} is too large for the allocator`);
    this.free = Array.from({ length: this.bits + 1 }, () => new ChurnMap<number, true>());
    this.heaps = Array.from({ length: this.bits + 1 }, () => []);
    this.sizes = Array.from({ length: this.bits + 1 }, (_, q) => (q < pool.prefix ? 0 : 2 ** (this.bits - q)));
    this.add(0, pool.prefix);
    this.freeCount = this.size(pool.prefix);
  }

  get freeAddresses(): bigint {
    return BigInt(this.freeCount);
  }

  /** Prefix of the largest free block, or null when nothing is free. */
  largestFree(): number | null {
    for (let q = this.pool.prefix; q <= this.bits; q++) if (this.level(q).size > 0) return q;
    return null;
  }

  private size(prefix: number): number {
    return this.sizes[prefix] as number;
  }

  private level(prefix: number): ChurnMap<number, true> {
    return this.free[prefix] as ChurnMap<number, true>;
  }

  private add(block: number, prefix: number): void {
    this.level(prefix).set(block, true);
    heapPush(this.heaps[prefix] as number[], block);
  }

  private remove(block: number, prefix: number): void {
    const set = this.level(prefix);
    set.delete(block);
    // Stale heap entries are skipped on pop; rebuild when they dominate so memory stays bounded.
    const heap = this.heaps[prefix] as number[];
    if (heap.length > 2 * set.size + 64) this.heaps[prefix] = [...set.keys()].sort(byNumber);
  }

  private popLowest(prefix: number): number | undefined {
    const set = this.level(prefix);
    const heap = this.heaps[prefix] as number[];
    while (set.size > 0) {
      const v = heapPop(heap);
      if (v === undefined) break;
      if (set.delete(v)) return v;
    }
    return undefined;
  }

  /** A block of `prefix` (its network address), or undefined if no free block is large enough. */
  alloc(prefix: number): bigint | undefined {
    for (let q = prefix; q >= this.pool.prefix; q--) {
      if (this.level(q).size === 0) continue;
      const block = this.popLowest(q);
      if (block === undefined) throw new InternalError(`buddy allocator: free list /${q} out of sync`);
      // Split down, keeping the lower half and freeing the upper one at each level.
      for (let r = q + 1; r <= prefix; r++) this.add(block + this.size(r), r);
      this.freeCount -= this.size(prefix);
      return this.pool.network + BigInt(block);
    }
    return undefined;
  }

  /** Takes this exact block (restore); false if any part of it is not free. */
  carve(network: bigint, prefix: number): boolean {
    const block = Number(network - this.pool.network);
    for (let q = prefix; q >= this.pool.prefix; q--) {
      const span = this.size(q);
      let start = block - (block % span);
      if (!this.level(q).has(start)) continue;
      this.remove(start, q);
      for (let r = q + 1; r <= prefix; r++) {
        const half = this.size(r);
        if (block >= start + half) {
          this.add(start, r);
          start += half;
        } else {
          this.add(start + half, r);
        }
      }
      this.freeCount -= this.size(prefix);
      return true;
    }
    return false;
  }

  release(network: bigint, prefix: number): void {
    this.freeCount += this.size(prefix);
    let b = Number(network - this.pool.network);
    let p = prefix;
    while (p > this.pool.prefix) {
      const size = this.size(p);
      const buddy = (b / size) % 2 === 0 ? b + size : b - size;
      if (!this.level(p).has(buddy)) break;
      this.remove(buddy, p);
      if (buddy < b) b = buddy;
      p--;
    }
    if (this.level(p).has(b)) throw new InternalError(`buddy allocator: double free of a /${p} block`);
    this.add(b, p);
  }

  /** After a bulk restore: rebuild every heap as a sorted array (a valid min-heap) without stale entries. */
  compact(): void {
    for (let q = this.pool.prefix; q <= this.bits; q++) this.heaps[q] = [...this.level(q).keys()].sort(byNumber);
  }
}

// ---------------------------------------------------------------------------------------------
// Interval set of free MACs: sorted, disjoint, non-adjacent [start, end] runs. A cluster takes the
// lowest free MACs (contiguity is not needed: each VM has its own DHCP host entry), which fills
// holes first and keeps the free space as one long run at the top, so the run list stays short.
// MACs are 48-bit, so plain numbers hold them exactly: arrays of doubles splice and compare far
// faster than arrays of bigints and make no garbage.

