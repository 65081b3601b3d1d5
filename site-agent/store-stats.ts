// Size of a site's snapshot store for the metrics: snapshots, distinct chunks they reference, those
// chunks' plain bytes, and the bytes on disk under the store's directory (whatever its layout).
import { readdir, lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { NotFoundError } from '../src/shared/errors.js';
import type { SnapshotManifest, SnapshotStore } from './snapshot-store/index.js';

export interface StoreStats {
  snapshots: number;
  chunks: number;
  chunkBytes: number;
  diskBytes: number;
}

export type StoreStatsSource = Pick<SnapshotStore, 'dir' | 'list' | 'manifest'>;

async function diskBytes(dir: string): Promise<number> {
  let total = 0;
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0; // removed while we walked
    throw err;
  }
  for (const e of entries) {
    const path = join(dir, e.name);
    if (e.isDirectory()) total += await diskBytes(path);
    else if (e.isFile()) {
      try {
        total += (await lstat(path)).size;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err; // else deleted since the listing
      }
    }
  }
  return total;
}

export async function storeStats(store: StoreStatsSource): Promise<StoreStats> {
  const sizes = new Map<string, number>();
  const list = await store.list();
  for (const s of list) {
    let m: SnapshotManifest;
    try {
      m = await store.manifest(s.id);
    } catch (err) {
      if (err instanceof NotFoundError) continue; // pruned since the listing
      throw err;
    }
    for (const f of m.files) for (const c of f.chunks) sizes.set(c.hash, c.size);
  }
  let chunkBytes = 0;
  for (const v of sizes.values()) chunkBytes += v;
  return { snapshots: list.length, chunks: sizes.size, chunkBytes, diskBytes: await diskBytes(store.dir) };
}
