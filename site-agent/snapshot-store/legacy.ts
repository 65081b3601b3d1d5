// Stores written before issue 9 (format 1) kept one file per chunk, `chunks/ab/<sha256>`, holding
// the same stored bytes (codec byte + payload) a pack record holds. Opening such a store converts
// it: every chunk file is appended to packs (as is: it is verified when read, like any chunk), the
// packs are sealed (durable), store.json says format 2, and only then are the chunk files removed.
// A crash midway converts again at the next open: chunks already in a sealed pack are not copied twice.
import { readdir, readFile, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../../src/shared/logger.js';
import type { ChunkIndex } from './chunk-index.js';
import { errnoCode } from './errors.js';
import type { StoreFs } from './fs-port.js';
import { HASH_RE } from './manifest.js';
import type { PackWriter } from './pack-writer.js';

export const LEGACY_CHUNKS_DIR = 'chunks';

export interface LegacyContext {
  dir: string;
  fs: StoreFs;
  index: ChunkIndex;
  packs: PackWriter;
  log: Logger;
  /** called once every chunk is in a durable pack, before any chunk file is removed */
  converted(): Promise<void>;
}

async function list(dir: string): Promise<string[] | undefined> {
  try {
    return await readdir(dir);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw err;
  }
}

/** Converts `chunks/` into packs if it exists; returns the chunk files converted. */
export async function convertLegacyChunks(c: LegacyContext): Promise<number> {
  const root = join(c.dir, LEGACY_CHUNKS_DIR);
  const subs = await list(root);
  if (!subs) {
    await c.converted();
    return 0;
  }
  const files: Array<{ path: string; hash: string }> = [];
  for (const sub of subs) {
    for (const name of (await list(join(root, sub))) ?? []) if (HASH_RE.test(name)) files.push({ path: join(root, sub, name), hash: name });
  }
  const started = Date.now();
  if (files.length > 0) c.log.info({ store: c.dir, chunkFiles: files.length }, 'snapshot store: converting a format-1 store (one file per chunk) into pack files; snapshots stay as they are');
  let bytes = 0;
  let copied = 0;
  let lastLog = started;
  for (const f of files) {
    if (c.index.has(f.hash)) continue; // an earlier, interrupted conversion copied it
    let data: Buffer;
    try {
      data = await readFile(f.path);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') continue;
      throw err;
    }
    await c.packs.append(f.hash, data);
    bytes += data.length;
    copied++;
    if (Date.now() - lastLog > 5000) {
      lastLog = Date.now();
      c.log.info({ store: c.dir, done: copied, of: files.length, bytes }, 'snapshot store: converting chunk files into packs');
    }
  }
  await c.packs.flush();
  await c.converted();
  for (const f of files) await c.fs.unlink(f.path).catch((err: unknown) => {
    if (errnoCode(err) !== 'ENOENT') throw err;
  });
  for (const sub of subs) await rmdir(join(root, sub)).catch((err: unknown) => c.log.warn({ dir: join(root, sub), err: String(err) }, 'snapshot store: could not remove a legacy chunk directory (not empty?)'));
  await rmdir(root).catch((err: unknown) => c.log.warn({ dir: root, err: String(err) }, 'snapshot store: could not remove the legacy chunks directory (not empty?)'));
  await c.fs.fsyncDir(c.dir);
  if (files.length > 0) c.log.info({ store: c.dir, chunkFiles: files.length, copied, bytes, ms: Date.now() - started }, 'snapshot store: converted to pack files (format 2)');
  return files.length;
}
