// Where every chunk of the store is: hash → pack, offset, length. Held in memory, built at open
// from the packs' own trailers (pack-format.ts), so there is no separate index file to keep in step
// with the packs: a pack in packs/ is complete and durable, and what it holds is in its trailer.
// A chunk may sit in two packs (a repack copied it, or two writers raced); the index names one.
import { open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../../src/shared/logger.js';
import { FOOTER, PACK_MAGIC, parseEntries, parseFooter, scanRecords, trailerSize, type PackEntry } from './pack-format.js';

export const PACK_NAME_RE = /^[0-9a-f]{16}\.pack$/;

/** One pack file: the one being appended to (in tmp/), or a sealed one in packs/. */
export class Pack {
  /** tmp/… while open, packs/<id>.pack once sealed (renamed: open descriptors stay valid) */
  path: string;
  sealed: boolean;
  /** bytes in the file */
  size: number;
  /** when it was sealed (ms); unreferenced chunks of young packs survive a collection's grace period */
  sealedAt: number;
  /** hashes whose index entry points into this pack */
  readonly hashes = new Set<string>();
  /** resolves once the pack is sealed and durable; rejects if sealing failed (its chunks are gone) */
  readonly durable: Promise<void>;
  /** @internal */ settle!: (err?: unknown) => void;

  constructor(
    readonly id: string,
    path: string,
    sealed: boolean,
    size: number,
    sealedAt: number,
  ) {
    this.path = path;
    this.sealed = sealed;
    this.size = size;
    this.sealedAt = sealedAt;
    this.durable = sealed
      ? Promise.resolve()
      : new Promise<void>((res, rej) => {
          this.settle = (err) => (err === undefined ? res() : rej(err));
        });
    this.durable.catch(() => undefined); // observed by those who wait on it
  }
}

export interface ChunkLoc {
  pack: Pack;
  offset: number;
  length: number;
}

export class ChunkIndex {
  private readonly map = new Map<string, ChunkLoc>();
  readonly packs = new Map<string, Pack>();

  get(hash: string): ChunkLoc | undefined {
    return this.map.get(hash);
  }

  has(hash: string): boolean {
    return this.map.has(hash);
  }

  get size(): number {
    return this.map.size;
  }

  hashes(): IterableIterator<string> {
    return this.map.keys();
  }

  /** Points `hash` at a place in `pack` (replacing where it was). */
  set(hash: string, pack: Pack, offset: number, length: number): void {
    const old = this.map.get(hash);
    if (old) old.pack.hashes.delete(hash);
    this.map.set(hash, { pack, offset, length });
    pack.hashes.add(hash);
  }

  /** Forgets every chunk located in `pack`, and the pack (synchronously: see gc.ts). */
  dropPack(pack: Pack): void {
    for (const h of pack.hashes) if (this.map.get(h)?.pack === pack) this.map.delete(h);
    pack.hashes.clear();
    this.packs.delete(pack.id);
  }

  addPack(pack: Pack): void {
    this.packs.set(pack.id, pack);
  }

  /** Loads every sealed pack of `dir` (packs/) not known yet. A pack whose trailer is damaged is scanned instead (logged). */
  async load(dir: string, log: Logger): Promise<void> {
    const names = (await readdir(dir)).filter((n) => PACK_NAME_RE.test(n)).sort();
    for (const name of names) {
      if (this.packs.has(name.slice(0, -5))) continue; // known (this process wrote or loaded it)
      const path = join(dir, name);
      const { entries, size, mtimeMs } = await readPackIndex(path, log);
      const pack = new Pack(name.slice(0, -5), path, true, size, mtimeMs);
      this.addPack(pack);
      for (const e of entries) if (!this.map.has(e.hash)) this.set(e.hash, pack, e.offset, e.length);
    }
  }
}

/** The entries of one sealed pack, from its trailer (or, if that is damaged, from a scan). */
export async function readPackIndex(path: string, log: Logger): Promise<{ entries: PackEntry[]; size: number; mtimeMs: number }> {
  const fh = await open(path, 'r');
  try {
    const st = await fh.stat();
    const size = st.size;
    const read = async (pos: number, len: number): Promise<Buffer> => {
      const b = Buffer.allocUnsafe(len);
      let got = 0;
      while (got < len) {
        const { bytesRead } = await fh.read(b, got, len - got, pos + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      return b.subarray(0, got);
    };
    let problem: string;
    if (size >= PACK_MAGIC.length + FOOTER) {
      const footer = parseFooter(await read(size - FOOTER, FOOTER), size);
      if (typeof footer === 'string') problem = footer;
      else {
        const start = size - trailerSize(footer.count);
        const entries = parseEntries(await read(start, trailerSize(footer.count) - FOOTER), footer.crc, start);
        if (typeof entries !== 'string') return { entries, size, mtimeMs: st.mtimeMs };
        problem = entries;
      }
    } else problem = 'too short';
    const entries = scanRecords(await read(0, size));
    log.warn({ pack: path, problem, recovered: entries.length }, 'snapshot store: pack index unreadable; its records were scanned instead (chunks are verified when read)');
    return { entries, size, mtimeMs: st.mtimeMs };
  } finally {
    await fh.close();
  }
}
