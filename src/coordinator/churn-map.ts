// A Map that never deletes from its hash table: deleting marks the entry gone, and the table is
// rebuilt once gone entries outnumber live ones. Why: V8 (Node 20) rehashes a large Map or Set on
// nearly every delete-then-insert of the same key (measured ~45 µs per pair at 20k entries), and
// reserve/release does exactly that, with the same blocks and job ids, on every placement.

const GONE: unique symbol = Symbol('gone');

export class ChurnMap<K, V extends object | boolean> {
  private map = new Map<K, V | typeof GONE>();
  private live = 0;

  get size(): number {
    return this.live;
  }

  get(key: K): V | undefined {
    const v = this.map.get(key);
    return v === GONE ? undefined : v;
  }

  has(key: K): boolean {
    const v = this.map.get(key);
    return v !== undefined && v !== GONE;
  }

  set(key: K, value: V): void {
    if (!this.has(key)) this.live++;
    this.map.set(key, value);
  }

  delete(key: K): boolean {
    if (!this.has(key)) return false;
    this.map.set(key, GONE);
    this.live--;
    if (this.map.size > 2 * this.live + 1024) {
      const fresh = new Map<K, V | typeof GONE>();
      for (const [k, v] of this.map) if (v !== GONE) fresh.set(k, v);
      this.map = fresh;
    }
    return true;
  }

  *keys(): IterableIterator<K> {
    for (const [k, v] of this.map) if (v !== GONE) yield k;
  }

  *values(): IterableIterator<V> {
    for (const v of this.map.values()) if (v !== GONE) yield v;
  }
}

// ---------------------------------------------------------------------------------------------
// Buddy allocator over one CIDR pool. A free list per prefix length; a freed block merges with its
// buddy as long as the buddy is free too, so the free space is always the unique decomposition into
// maximal aligned blocks. Allocation takes the lowest free block of the smallest sufficient size.
// Blocks are kept as offsets from the pool's network in plain numbers (exact below 2^53, hence
// MAX_POOL_BITS): bigints in these hot structures cost a heap object per block and made the
// garbage collector the main cost of a placement. Addresses are bigints again at the boundary.

