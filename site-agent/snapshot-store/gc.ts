// The collector: removes packs whose chunks nothing references, and rewrites (repacks) packs in
// which unreferenced chunks take more than `maxUnused` of the bytes. It runs in memory over the
// chunk index and the cached manifests (no directory scan, no chunk read except for repacking),
// and never on the checkpoint path: after a prune, in the background (`collectGarbageSoon`).
//
// Safety with concurrent writers (pins, see store.ts): a writer pins a hash before it looks it up
// in the index. The collector decides on a pack and takes its chunks out of the index in one
// synchronous step (no await between the check of the pins and `dropPack`), so a writer either
// finds the chunk (and the pack stays) or does not (and writes it again). A repack copies the live
// chunks into the open pack without indexing them, waits for that pack to be durable, then points
// the index at the copies and drops the old pack only if nothing pinned its other chunks meanwhile.
import type { ChunkLoc, Pack } from './chunk-index.js';
import { manifestHashes, type SnapshotManifest } from './manifest.js';
import { errnoCode } from './errors.js';
import type { StoreFs } from './fs-port.js';
import type { SharedState } from './state.js';
import type { PackWriter } from './pack-writer.js';

export interface GcOptions {
  /** keep unreferenced chunks of packs younger than this (default 0: every orphan goes) */
  graceMs?: number;
  /**
   * a pack in which unreferenced chunks are more than this share of its bytes is repacked (its
   * live chunks copied into a new pack, the old one removed); default 0.2. 0: every orphan goes.
   */
  maxUnused?: number;
}

export interface GcResult {
  removedChunks: number;
  removedBytes: number;
  /** referenced by a manifest or pinned */
  keptChunks: number;
  /** unreferenced but in a pack younger than the grace period, or below the repack threshold */
  keptYoung: number;
  removedTempFiles: number;
  /** pack files removed (whole, or after a repack) */
  removedPacks: number;
  /** packs whose live chunks were copied into a new pack */
  repackedPacks: number;
}

export const DEFAULT_MAX_UNUSED = 0.2;

export interface GcContext {
  s: SharedState;
  packs: PackWriter;
  fs: StoreFs;
  manifestIds(): Promise<string[]>;
  /** undefined: deleted meanwhile */
  manifestOrNone(id: string): Promise<SnapshotManifest | undefined>;
  pendingImports(): Promise<string[]>;
  pendingImport(id: string): Promise<SnapshotManifest | undefined>;
  cleanTemp(): Promise<number>;
}

async function unlinkIfThere(fs: StoreFs, path: string): Promise<void> {
  try {
    await fs.unlink(path);
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw err;
  }
}

export async function runGc(c: GcContext, graceMs: number, maxUnused: number): Promise<GcResult> {
  const { s } = c;
  // Set before listing manifests: a commit from now on reports its hashes here (see unpin).
  const live = new Set<string>();
  s.gcLive = live;
  const result: GcResult = { removedChunks: 0, removedBytes: 0, keptChunks: 0, keptYoung: 0, removedTempFiles: 0, removedPacks: 0, repackedPacks: 0 };
  try {
    // The open pack too: chunks of aborted writers sit there until it is sealed.
    await c.packs.flush();
    for (const id of await c.manifestIds()) {
      const m = await c.manifestOrNone(id);
      if (m) for (const h of manifestHashes(m)) live.add(h);
    }
    for (const id of await c.pendingImports()) {
      const m = await c.pendingImport(id);
      if (m) for (const h of manifestHashes(m)) live.add(h);
    }
    const keep = (h: string): boolean => live.has(h) || s.pins.has(h) || s.writing.has(h);
    const cutoff = Date.now() - graceMs;
    for (const pack of [...s.index.packs.values()]) {
      if (!pack.sealed) continue; // being written: the next collection sees it
      let liveBytes = 0;
      let liveCount = 0;
      for (const h of pack.hashes) {
        if (!keep(h)) continue;
        liveCount++;
        liveBytes += s.index.get(h)?.length ?? 0;
      }
      const dead = pack.hashes.size - liveCount;
      result.keptChunks += liveCount;
      const unusedShare = pack.size > 0 ? 1 - liveBytes / pack.size : 0;
      if (liveCount > 0 && unusedShare <= maxUnused) {
        result.keptYoung += dead;
        continue;
      }
      if (pack.sealedAt > cutoff) {
        result.keptYoung += dead;
        continue;
      }
      if (liveCount === 0) {
        // Decided and taken out of the index synchronously (see the header).
        const bytes = pack.size;
        s.index.dropPack(pack);
        s.reader.forget(pack);
        await unlinkIfThere(c.fs, pack.path);
        result.removedChunks += dead;
        result.removedBytes += bytes;
        result.removedPacks++;
        continue;
      }
      const removed = await repack(c, pack, keep);
      if (removed) {
        result.repackedPacks++;
        result.removedPacks++;
        result.removedChunks += removed.chunks;
        result.removedBytes += removed.bytes;
      } else result.keptYoung += dead;
    }
    result.removedTempFiles = await c.cleanTemp();
  } finally {
    s.gcLive = null;
  }
  return result;
}

/** Copies the live chunks of `pack` into the open pack, then removes `pack`; undefined if it had to stay. */
async function repack(c: GcContext, pack: Pack, keep: (h: string) => boolean): Promise<{ chunks: number; bytes: number } | undefined> {
  const { s } = c;
  const copies: Array<{ hash: string; at: ChunkLoc }> = [];
  for (const h of [...pack.hashes]) {
    if (!keep(h) || s.index.get(h)?.pack !== pack) continue;
    const data = await s.reader.read(h);
    if (!data) return undefined; // the pack is damaged: leave it as it is (reads report it)
    copies.push({ hash: h, at: await c.packs.appendUnindexed(h, data) });
  }
  const targets = new Set(copies.map((x) => x.at.pack));
  for (const t of targets) await c.packs.seal(t);
  // From here on synchronous: point the index at the copies, then decide on the rest.
  for (const { hash, at } of copies) if (s.index.get(hash)?.pack === pack) s.index.set(hash, at.pack, at.offset, at.length);
  const rest = [...pack.hashes];
  if (rest.some(keep)) return undefined; // pinned or committed meanwhile: the pack stays, a later collection retries
  const bytes = pack.size;
  s.index.dropPack(pack);
  s.reader.forget(pack);
  await unlinkIfThere(c.fs, pack.path);
  return { chunks: rest.length, bytes };
}
