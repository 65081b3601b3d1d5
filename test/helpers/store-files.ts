// Tests' view of a snapshot store's files on disk (site-agent/snapshot-store/pack-format.ts): which
// chunks the packs hold, where a chunk's stored bytes are, and ways to damage them as a disk would.
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import zstd from 'zstd-napi';
import { FOOTER, parseEntries, parseFooter, scanRecords, trailerSize, type PackEntry } from '../../site-agent/snapshot-store/pack-format.js';

function readAt(path: string, pos: number, len: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const b = Buffer.alloc(len);
    readSync(fd, b, 0, len, pos);
    return b;
  } finally {
    closeSync(fd);
  }
}

/** The records of one pack: from its trailer if sealed, else by scanning (a pack still in tmp/). */
export function packEntries(path: string): PackEntry[] {
  const size = statSync(path).size;
  if (size >= FOOTER + 8) {
    const footer = parseFooter(readAt(path, size - FOOTER, FOOTER), size);
    if (typeof footer !== 'string') {
      const start = size - trailerSize(footer.count);
      const entries = parseEntries(readAt(path, start, trailerSize(footer.count) - FOOTER), footer.crc, start);
      if (typeof entries !== 'string') return entries;
    }
  }
  return scanRecords(readFileSync(path));
}

function packPaths(storeDir: string, withTmp: boolean): string[] {
  const out: string[] = [];
  const packs = join(storeDir, 'packs');
  if (existsSync(packs)) for (const n of readdirSync(packs)) if (n.endsWith('.pack')) out.push(join(packs, n));
  const tmp = join(storeDir, 'tmp');
  if (withTmp && existsSync(tmp)) for (const n of readdirSync(tmp)) if (n.endsWith('.pack')) out.push(join(tmp, n));
  return out;
}

/** Every distinct chunk hash held on disk: sealed packs, packs being written, legacy chunk files. */
export function storedChunks(storeDir: string): string[] {
  const out = new Set<string>();
  for (const p of packPaths(storeDir, true)) for (const e of packEntries(p)) out.add(e.hash);
  const legacy = join(storeDir, 'chunks');
  if (existsSync(legacy)) for (const sub of readdirSync(legacy)) for (const f of readdirSync(join(legacy, sub))) out.add(f);
  return [...out].sort();
}

/** Where a chunk's stored bytes are (first sealed pack holding it). */
export function chunkRecord(storeDir: string, hash: string): { path: string; offset: number; length: number } {
  for (const path of packPaths(storeDir, false)) {
    const e = packEntries(path).find((x) => x.hash === hash);
    if (e) return { path, offset: e.offset, length: e.length };
  }
  throw new Error(`chunk ${hash} is in no pack of ${storeDir}`);
}

export function readStored(storeDir: string, hash: string): Buffer {
  const r = chunkRecord(storeDir, hash);
  return readAt(r.path, r.offset, r.length);
}

/** Overwrites a chunk's stored bytes in place (same length). */
export function writeStored(storeDir: string, hash: string, bytes: Buffer): void {
  const r = chunkRecord(storeDir, hash);
  if (bytes.length !== r.length) throw new Error(`test fixture: ${bytes.length} bytes do not fit a record of ${r.length}`);
  const fd = openSync(r.path, 'r+');
  try {
    writeSync(fd, bytes, 0, bytes.length, r.offset);
  } finally {
    closeSync(fd);
  }
}

/** Flips one bit of a chunk's stored bytes, `at` from the start (negative: from the end). */
export function flipStoredByte(storeDir: string, hash: string, at: number): void {
  const b = readStored(storeDir, hash);
  const i = at < 0 ? b.length + at : at;
  b[i] = (b[i] as number) ^ 0x01;
  writeStored(storeDir, hash, b);
}

/**
 * Replaces a chunk's content by `plain`, stored well-formed (zstd, padded to the record's length
 * with a skippable frame, or raw when it fits): only the hash can tell.
 */
export function replaceChunkContent(storeDir: string, hash: string, plain: Buffer): void {
  const { length } = chunkRecord(storeDir, hash);
  let stored: Buffer;
  if (plain.length + 1 === length) stored = Buffer.concat([Buffer.of(0), plain]);
  else {
    const z = zstd.compress(plain, { compressionLevel: 19 });
    const pad = length - 1 - z.length;
    if (pad < 8) throw new Error(`test fixture: recompressed chunk does not fit its record (${z.length + 1} of ${length})`);
    const skip = Buffer.alloc(pad);
    skip.writeUInt32LE(0x184d2a50, 0);
    skip.writeUInt32LE(pad - 8, 4);
    stored = Buffer.concat([Buffer.of(3), z, skip]);
  }
  writeStored(storeDir, hash, stored);
}

/** Deletes the pack holding `hash` (every chunk in it goes missing). */
export function removePackOf(storeDir: string, hash: string): void {
  rmSync(chunkRecord(storeDir, hash).path);
}
