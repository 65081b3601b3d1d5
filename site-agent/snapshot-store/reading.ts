// Reading snapshots back: a file as a stream, restored to a path, or every chunk checked. Every
// chunk is decoded and its SHA-256 checked (in the codec workers, several at once, read ahead in
// file order) before a byte of it is passed on; a bad one is named (snapshot, file, chunk, offset).
// Chunks lying back to back in a pack are read with one pread and verified with one worker call.
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, unlink } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ChunkProblem, codecPool } from './codec-pool.js';
import type { ChunkLoc } from './chunk-index.js';
import { CorruptChunkError, errnoCode, MissingChunkError, type ChunkLocation } from './errors.js';
import { manifestHashes, type ChunkRef, type ManifestFile, type SnapshotManifest } from './manifest.js';
import { RECORD_HEADER } from './pack-format.js';
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
      const runs = packRuns(c, f.chunks);
      const load = (r: Run): Promise<Buffer> => {
        const p = loadRun(c, f.chunks, r, { snapshotId, file: name });
        p.catch(ignore); // read ahead: a failure is reported when its turn comes
        return p;
      };
      const ahead: Array<Promise<Buffer>> = [];
      let next = 0;
      while (next < runs.length && ahead.length < c.readConcurrency) ahead.push(load(runs[next++] as Run));
      while (ahead.length > 0) {
        const buf = await (ahead.shift() as Promise<Buffer>);
        if (next < runs.length) ahead.push(load(runs[next++] as Run));
        yield buf;
      }
    } finally {
      release();
    }
  };
  return Readable.from(gen(), { objectMode: false });
}

/** Chunks `start`..`end` (exclusive) of a list, lying back to back in one pack (or a single chunk). */
interface Run {
  start: number;
  end: number;
  /** offset in the file of chunk `start` */
  fileOffset: number;
}

/** bytes read and verified in one go: one pread and one message to a codec worker per run */
const RUN_BYTES = 4 * 1024 * 1024;

/**
 * Cuts a file's chunks into runs that lie back to back in one pack (a file's new chunks were
 * appended in order, so a first snapshot reads as a few long sequential reads).
 */
function packRuns(c: ReadContext, refs: readonly ChunkRef[]): Run[] {
  const runs: Run[] = [];
  let fileOffset = 0;
  let cur: (Run & { pack: unknown; nextOffset: number; bytes: number }) | undefined;
  for (let i = 0; i < refs.length; i++) {
    const ref = refs[i] as ChunkRef;
    const loc = c.s.index.get(ref.hash);
    if (cur && loc && loc.pack === cur.pack && loc.offset === cur.nextOffset && cur.bytes + loc.length <= RUN_BYTES) {
      cur.end = i + 1;
      cur.nextOffset = loc.offset + loc.length + RECORD_HEADER;
      cur.bytes += loc.length + RECORD_HEADER;
    } else {
      if (cur) runs.push({ start: cur.start, end: cur.end, fileOffset: cur.fileOffset });
      cur = { start: i, end: i + 1, fileOffset, pack: loc?.pack, nextOffset: loc ? loc.offset + loc.length + RECORD_HEADER : -1, bytes: loc?.length ?? 0 };
    }
    fileOffset += ref.size;
  }
  if (cur) runs.push({ start: cur.start, end: cur.end, fileOffset: cur.fileOffset });
  return runs;
}

/**
 * The plain bytes of a run, every chunk verified. One read and one worker call for the run; if the
 * run moved meanwhile (a repack) or is damaged, chunk by chunk, so the bad one is named.
 */
async function loadRun(c: ReadContext, refs: readonly ChunkRef[], r: Run, where: { snapshotId: string; file: string }): Promise<Buffer> {
  const locOf = (i: number, off: number): ChunkLocation => ({ ...where, chunk: (refs[i] as ChunkRef).hash, offset: off });
  const oneByOne = async (): Promise<Buffer> => {
    const parts: Buffer[] = [];
    let off = r.fileOffset;
    for (let i = r.start; i < r.end; i++) {
      parts.push(await loadChunk(c, refs[i] as ChunkRef, locOf(i, off)));
      off += (refs[i] as ChunkRef).size;
    }
    return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
  };
  if (r.end - r.start === 1) return oneByOne();
  const locs = refs.slice(r.start, r.end).map((ref) => c.s.index.get(ref.hash));
  const first = locs[0];
  const last = locs[locs.length - 1];
  if (!first || !last || locs.some((l) => !l || l.pack !== first.pack)) return oneByOne();
  const span = last.offset + last.length - first.offset;
  let bytes: Buffer;
  try {
    bytes = await c.s.reader.readSpan(first.pack, first.offset, span);
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT' || code === 'EBADF') return oneByOne(); // repacked meanwhile: the index knows where
    throw err;
  }
  if (bytes.length < span) return oneByOne(); // a pack cut short: each chunk says what is wrong
  const slice = refs.slice(r.start, r.end);
  try {
    const out = await codecPool().decodeMany(
      bytes,
      locs.map((l) => (l as ChunkLoc).offset - first.offset),
      locs.map((l) => (l as ChunkLoc).length),
      slice.map((x) => x.hash),
      slice.map((x) => x.size),
    );
    return out.data;
  } catch (err) {
    if (err instanceof ChunkProblem) return oneByOne(); // names the bad chunk and its offset
    throw err;
  }
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
    // In the order of the packs: reads go through each pack from start to end, run by run.
    const refs = hashes
      .map((h) => ({ hash: h, size: sizes.get(h) ?? 0, loc: c.s.index.get(h) }))
      .sort((a, b) => (a.loc?.pack.id ?? '').localeCompare(b.loc?.pack.id ?? '') || (a.loc?.offset ?? 0) - (b.loc?.offset ?? 0))
      .map(({ hash, size }) => ({ hash, size }));
    const one = async (ref: ChunkRef): Promise<void> => {
      try {
        await loadChunk(c, ref, { snapshotId, file: '', chunk: ref.hash, offset: -1 });
      } catch (err) {
        if (err instanceof MissingChunkError) problems.set(ref.hash, { problem: 'missing', detail: 'not in the store' });
        else if (err instanceof CorruptChunkError) problems.set(ref.hash, { problem: 'corrupt', detail: err.message.replace(/^.* is corrupt: /, '') });
        else throw err;
      }
    };
    await forEachLimited(packRuns(c, refs), c.readConcurrency, async (r) => {
      try {
        await loadRun(c, refs, r, { snapshotId, file: '' });
      } catch (err) {
        if (!(err instanceof MissingChunkError || err instanceof CorruptChunkError)) throw err;
        for (let i = r.start; i < r.end; i++) await one(refs[i] as ChunkRef); // every bad one, not only the first
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
