// Reading snapshots back: a file as a stream, restored to a path, or every chunk checked. Every
// chunk is decoded and its SHA-256 checked (in the codec workers, several at once, read ahead in
// file order) before a byte of it is passed on; a bad one is named (snapshot, file, chunk, offset).
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, unlink } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ChunkProblem, codecPool } from './codec-pool.js';
import { CorruptChunkError, MissingChunkError, type ChunkLocation } from './errors.js';
import { manifestHashes, type ChunkRef, type ManifestFile, type SnapshotManifest } from './manifest.js';
import type { SharedState } from './state.js';

export interface DamagedChunk {
  file: string;
  chunk: string;
  /** offset of the chunk's first occurrence in the file */
  offset: number;
  problem: 'missing' | 'corrupt';
  detail: string;
}

export interface VerifyResult {
  snapshotId: string;
  ok: boolean;
  checkedChunks: number;
  damaged: DamagedChunk[];
}

export interface ReadContext {
  s: SharedState;
  readConcurrency: number;
  manifest(id: string): Promise<SnapshotManifest>;
  fileOf(id: string, name: string): Promise<ManifestFile>;
  hold(hashes: Iterable<string>): () => void;
}

const ignore = (): void => undefined;

/** Reads, decodes and checks one chunk against its name and expected size. */
export async function loadChunk(c: ReadContext, ref: ChunkRef, loc: ChunkLocation): Promise<Buffer> {
  const stored = await c.s.reader.read(ref.hash);
  if (!stored) throw new MissingChunkError(loc);
  try {
    return await codecPool().decodeVerified(stored, ref.hash, ref.size, true);
  } catch (err) {
    if (err instanceof ChunkProblem) throw new CorruptChunkError(loc, err.message, err);
    throw err;
  }
}

/**
 * A file of a snapshot as a stream; every chunk is verified before it is passed on, and a bad one
 * ends the stream with CorruptChunkError / MissingChunkError. The chunks stay pinned while it is read.
 */
export function openFile(c: ReadContext, snapshotId: string, name: string): Readable {
  const gen = async function* (): AsyncGenerator<Buffer> {
    const f = await c.fileOf(snapshotId, name);
    const release = c.hold(f.chunks.map((x) => x.hash));
    try {
      const offsets: number[] = [];
      let off = 0;
      for (const x of f.chunks) {
        offsets.push(off);
        off += x.size;
      }
      const load = (i: number): Promise<Buffer> => {
        const ref = f.chunks[i] as ChunkRef;
        const p = loadChunk(c, ref, { snapshotId, file: name, chunk: ref.hash, offset: offsets[i] as number });
        p.catch(ignore); // read ahead: a failure is reported when its turn comes
        return p;
      };
      const ahead: Array<Promise<Buffer>> = [];
      let next = 0;
      while (next < f.chunks.length && ahead.length < c.readConcurrency) ahead.push(load(next++));
      while (ahead.length > 0) {
        const buf = await (ahead.shift() as Promise<Buffer>);
        if (next < f.chunks.length) ahead.push(load(next++));
        yield buf;
      }
    } finally {
      release();
    }
  };
  return Readable.from(gen(), { objectMode: false });
}

/**
 * Restores one file to `destPath`, verifying every chunk. Writes a temp file beside it and renames
 * it at the end: a failed restore leaves nothing at `destPath`.
 */
export async function restoreFile(c: ReadContext, snapshotId: string, name: string, destPath: string): Promise<{ bytes: number }> {
  const f = await c.fileOf(snapshotId, name); // NotFound before anything is created
  const tmp = `${destPath}.brine-restore-${randomBytes(4).toString('hex')}`;
  try {
    await pipeline(openFile(c, snapshotId, name), createWriteStream(tmp, { flags: 'wx', highWaterMark: 4 * 1024 * 1024 }));
    await rename(tmp, destPath);
  } catch (err) {
    await unlink(tmp).catch(ignore);
    throw err;
  }
  return { bytes: f.size };
}

/** Reads every chunk of a snapshot and reports those missing or corrupt. */
export async function verify(c: ReadContext, snapshotId: string): Promise<VerifyResult> {
  const m = await c.manifest(snapshotId);
  const hashes = [...manifestHashes(m)];
  const release = c.hold(hashes);
  const sizes = new Map<string, number>();
  for (const f of m.files) for (const x of f.chunks) sizes.set(x.hash, x.size);
  const problems = new Map<string, { problem: 'missing' | 'corrupt'; detail: string }>();
  try {
    // In the order of the packs: reads go through each pack from start to end.
    const order = hashes
      .map((h) => ({ h, loc: c.s.index.get(h) }))
      .sort((a, b) => (a.loc?.pack.id ?? '').localeCompare(b.loc?.pack.id ?? '') || (a.loc?.offset ?? 0) - (b.loc?.offset ?? 0))
      .map((x) => x.h);
    await forEachLimited(order, c.readConcurrency, async (hash) => {
      try {
        await loadChunk(c, { hash, size: sizes.get(hash) ?? 0 }, { snapshotId, file: '', chunk: hash, offset: -1 });
      } catch (err) {
        if (err instanceof MissingChunkError) problems.set(hash, { problem: 'missing', detail: 'not in the store' });
        else if (err instanceof CorruptChunkError) problems.set(hash, { problem: 'corrupt', detail: err.message.replace(/^.* is corrupt: /, '') });
        else throw err;
      }
    });
  } finally {
    release();
  }
  const damaged: DamagedChunk[] = [];
  for (const f of m.files) {
    const seen = new Set<string>();
    let off = 0;
    for (const x of f.chunks) {
      const p = problems.get(x.hash);
      if (p && !seen.has(x.hash)) {
        seen.add(x.hash);
        damaged.push({ file: f.name, chunk: x.hash, offset: off, ...p });
      }
      off += x.size;
    }
  }
  return { snapshotId, ok: damaged.length === 0, checkedChunks: hashes.length, damaged };
}

/** Runs `fn` over `items` with at most `limit` at once. */
export async function forEachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item);
    }
  });
  await Promise.all(workers);
}
