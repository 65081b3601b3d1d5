// Transfers between sites (issue 6): "which chunks do you have / send me these", and snapshots
// received from another store. A received chunk arrives as stored (codec byte + payload), is
// verified after decompression and appended to the open pack like any other; `importManifest`
// makes the packs holding the snapshot's chunks durable before the manifest lands.
//
// Chunks received before their manifest are protected from the collector by the pending import
// (`beginImport` writes the manifest to imports/, on disk, so an interrupted transfer resumes with
// what already arrived, even after a restart: chunks in a pack that was not sealed before a crash
// are lost with it and simply asked for again).
import { readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { AlreadyExistsError, NotFoundError } from '../../src/shared/errors.js';
import { ChunkProblem, codecPool } from './codec-pool.js';
import { CorruptChunkError, CorruptManifestError, errnoCode, IncompleteSnapshotError, MissingChunkError, writeError } from './errors.js';
import { manifestHashes, parseManifest, SNAPSHOT_ID_RE, type SnapshotManifest } from './manifest.js';
import type { SharedState } from './state.js';

export interface ImportContext {
  dir: string;
  s: SharedState;
  checkHash(hash: string): void;
  checkId(id: string): void;
  manifest(id: string): Promise<SnapshotManifest>;
  pin(hash: string): void;
  unpin(hashes: Iterable<string>, nowReferenced: boolean): void;
  putChunk(hash: string, encode: () => Promise<Buffer>): Promise<number>;
  makeDurable(hashes: Iterable<string>, what: string): Promise<void>;
  writeManifest(m: SnapshotManifest): Promise<void>;
  writeSmallFile(path: string, data: Buffer, kind: string): Promise<void>;
}

export const IMPORTS_DIR = 'imports';

const importPath = (c: ImportContext, id: string): string => join(c.dir, IMPORTS_DIR, `${id}.json`);

/** Those of `hashes` (deduplicated, in order) that are not in the store. */
export function missingChunks(c: ImportContext, hashes: readonly string[]): string[] {
  const unique = [...new Set(hashes)];
  for (const h of unique) c.checkHash(h);
  return unique.filter((h) => !c.s.index.has(h));
}

/** A chunk's stored bytes (codec byte + payload), to send as they are; the receiver verifies. */
export async function readChunkCompressed(c: ImportContext, hash: string): Promise<Buffer> {
  c.checkHash(hash);
  const data = await c.s.reader.read(hash);
  if (!data) throw new MissingChunkError({ snapshotId: '', file: '', chunk: hash, offset: -1 });
  return data;
}

/** Stores a received chunk after checking that it decodes to content whose SHA-256 is `hash`; true if it was new here. */
export async function writeChunkCompressed(c: ImportContext, hash: string, data: Uint8Array): Promise<boolean> {
  return (await writeChunksCompressed(c, [{ hash, data }])).length > 0;
}

/**
 * `writeChunkCompressed` for the chunks of one received message at once: verified in one worker
 * call, then appended. Returns the hashes that were new here. A bad chunk: CorruptChunkError
 * naming it; the good ones before it are stored (they were verified).
 */
export async function writeChunksCompressed(c: ImportContext, chunks: ReadonlyArray<{ hash: string; data: Uint8Array }>): Promise<string[]> {
  for (const ch of chunks) c.checkHash(ch.hash);
  const sizes = chunks.map((ch) => ch.data.length);
  // one private buffer for the run: the received views may point into buffers gRPC reuses
  const run = Buffer.allocUnsafeSlow(sizes.reduce((a, b) => a + b, 0));
  let at = 0;
  for (const ch of chunks) at += Buffer.from(ch.data.buffer, ch.data.byteOffset, ch.data.byteLength).copy(run, at);
  let stored: Buffer;
  let good = chunks.length;
  let bad: CorruptChunkError | undefined;
  try {
    stored = await codecPool().verifyMany(run, sizes, chunks.map((ch) => ch.hash));
  } catch (err) {
    if (!(err instanceof ChunkProblem)) throw err;
    good = err.index ?? 0;
    bad = new CorruptChunkError({ snapshotId: '', file: '', chunk: chunks[good]?.hash ?? '', offset: -1 }, err.message, err);
    // the run was handed over and lost with the failed call: the good chunks come from the views
    stored = Buffer.concat(chunks.slice(0, good).map((ch) => ch.data));
  }
  const hashes = chunks.slice(0, good).map((ch) => ch.hash);
  for (const h of hashes) c.pin(h);
  const added: string[] = [];
  try {
    let off = 0;
    const writes = hashes.map((h, i) => {
      const piece = stored.subarray(off, off + (sizes[i] as number));
      off += sizes[i] as number;
      return c.putChunk(h, async () => piece).then((n) => {
        if (n > 0) added.push(h);
      });
    });
    // appends are serialised in call order anyway: queue them all, then wait
    const settled = await Promise.allSettled(writes);
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw writeError('storing received chunks', failed.reason);
  } finally {
    c.unpin(hashes, false);
  }
  if (bad) throw bad;
  return added;
}

/** NotFoundError → false; the same manifest → true; another one → AlreadyExistsError. */
async function alreadyHere(c: ImportContext, m: SnapshotManifest): Promise<boolean> {
  try {
    const here = await c.manifest(m.id);
    if (JSON.stringify(here) === JSON.stringify(m)) return true;
    throw new AlreadyExistsError(`snapshot ${m.id} already exists in the store with other content`);
  } catch (err) {
    if (err instanceof NotFoundError) return false;
    throw err;
  }
}

export async function beginImport(c: ImportContext, raw: unknown): Promise<string[]> {
  const m = parseManifest(raw, 'imported manifest');
  if (c.s.openIds.has(m.id)) throw new AlreadyExistsError(`snapshot ${m.id} is being written here`);
  if (await alreadyHere(c, m)) return [];
  const pending = await pendingImport(c, m.id);
  if (pending && JSON.stringify(pending) !== JSON.stringify(m)) throw new AlreadyExistsError(`another import of snapshot ${m.id} is pending (abandonImport it first)`);
  const hashes = [...manifestHashes(m)];
  if (!pending) {
    try {
      await c.writeSmallFile(importPath(c, m.id), Buffer.from(JSON.stringify(m) + '\n'), 'import');
    } catch (err) {
      throw writeError(`recording the import of snapshot ${m.id}`, err);
    }
    // A collection that listed imports before this record landed must count its chunks as live too.
    const live = c.s.gcLive;
    if (live) for (const h of hashes) live.add(h);
  }
  return missingChunks(c, hashes);
}

export async function pendingImports(c: ImportContext): Promise<string[]> {
  const names = await readdir(join(c.dir, IMPORTS_DIR));
  return names.filter((n) => n.endsWith('.json')).map((n) => n.slice(0, -5)).filter((id) => SNAPSHOT_ID_RE.test(id));
}

export async function pendingImport(c: ImportContext, id: string): Promise<SnapshotManifest | undefined> {
  c.checkId(id);
  let text: string;
  try {
    text = await readFile(importPath(c, id), 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw err;
  }
  try {
    return parseManifest(JSON.parse(text), `imports/${id}.json`);
  } catch (err) {
    throw new CorruptManifestError(id, err instanceof Error ? err.message : String(err), err);
  }
}

export async function abandonImport(c: ImportContext, id: string): Promise<void> {
  c.checkId(id);
  try {
    await unlink(importPath(c, id));
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw err;
  }
}

export async function importManifest(c: ImportContext, raw: unknown): Promise<void> {
  const m = parseManifest(raw, 'imported manifest');
  if (c.s.openIds.has(m.id)) throw new AlreadyExistsError(`snapshot ${m.id} is being written here`);
  if (await alreadyHere(c, m)) return;
  const hashes = [...manifestHashes(m)];
  c.s.openIds.add(m.id);
  for (const h of hashes) c.pin(h);
  let landed = false;
  try {
    // Pinned first, so nothing is collected between this check and the manifest landing.
    const missing = missingChunks(c, hashes);
    if (missing.length > 0) throw new IncompleteSnapshotError(m.id, missing);
    try {
      await c.makeDurable(hashes, `importing snapshot ${m.id}`);
      await c.writeManifest(m);
    } catch (err) {
      throw writeError(`importing snapshot ${m.id}`, err);
    }
    landed = true;
  } finally {
    c.unpin(hashes, landed);
    c.s.openIds.delete(m.id);
  }
  // After the manifest: from now on the manifest protects the chunks.
  await abandonImport(c, m.id);
}
