// Reads chunks' stored bytes out of packs: one read-only descriptor per pack, kept open while reads
// follow each other (a bounded cache), so a restore costs one pread per chunk. A pack renamed while open (sealed)
// keeps its descriptor; one that was removed by the collector is closed once no read uses it.
import { open, type FileHandle } from 'node:fs/promises';
import type { ChunkIndex, ChunkLoc, Pack } from './chunk-index.js';
import { errnoCode } from './errors.js';

const MAX_OPEN = 64;

interface Handle {
  fh: Promise<FileHandle>;
  users: number;
  closing: boolean;
}

export class PackReader {
  private readonly open = new Map<Pack, Handle>();
  constructor(private readonly index: ChunkIndex) {}

  /**
   * The stored bytes of `hash`, or undefined if the store does not have it (not in the index, or its
   * pack is gone). Retries once when the pack moved or was replaced meanwhile (sealed, repacked).
   */
  async read(hash: string): Promise<Buffer | undefined> {
    const loc = this.index.get(hash);
    if (!loc) return undefined;
    try {
      return await this.readAt(loc);
    } catch (err) {
      if (!gone(err)) throw err;
      this.forget(loc.pack);
    }
    const again = this.index.get(hash);
    if (!again) return undefined;
    try {
      return await this.readAt(again); // moved meanwhile (sealed: renamed; repacked: elsewhere)
    } catch (err) {
      if (gone(err)) return undefined; // the pack file itself is gone
      throw err;
    }
  }

  /**
   * `length` bytes of `pack` from `offset` (several consecutive records at once); fewer if the pack
   * is shorter. Throws ENOENT if the pack is gone: the caller falls back to `read` per chunk.
   */
  readSpan(pack: Pack, offset: number, length: number): Promise<Buffer> {
    return this.readAt({ pack, offset, length });
  }

  private async readAt(loc: ChunkLoc): Promise<Buffer> {
    const h = this.acquire(loc.pack);
    try {
      const fh = await h.fh;
      const buf = Buffer.allocUnsafeSlow(loc.length);
      let got = 0;
      while (got < loc.length) {
        const { bytesRead } = await fh.read(buf, got, loc.length - got, loc.offset + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      // A pack cut short: what is there is returned, the verification names it corrupt.
      return got === loc.length ? buf : buf.subarray(0, got);
    } finally {
      this.release(loc.pack, h);
    }
  }

  private acquire(pack: Pack): Handle {
    let h = this.open.get(pack);
    if (!h || h.closing) {
      if (this.open.size >= MAX_OPEN) this.evict();
      const fh = open(pack.path, 'r');
      fh.catch(() => undefined);
      h = { fh, users: 0, closing: false };
      this.open.set(pack, h);
      const mine = h;
      // a failed open is not cached
      fh.catch(() => {
        if (this.open.get(pack) === mine) this.open.delete(pack);
      });
    }
    h.users++;
    return h;
  }

  private release(pack: Pack, h: Handle): void {
    h.users--;
    if (h.users > 0) return;
    if (h.closing || this.open.get(pack) !== h) {
      void closeQuietly(h);
      return;
    }
    // Kept open while reads follow each other (a restore reads ahead), closed once idle: a pack
    // that disappears from disk is then seen as missing by the next read.
    setImmediate(() => {
      if (h.users === 0 && this.open.get(pack) === h) {
        this.open.delete(pack);
        void closeQuietly(h);
      }
    });
  }

  private evict(): void {
    for (const [pack, h] of this.open) {
      if (h.users > 0) continue;
      this.open.delete(pack);
      void closeQuietly(h);
      return;
    }
  }

  /** Closes the pack's descriptor once no read uses it (the collector removed the pack). */
  forget(pack: Pack | undefined): void {
    if (!pack) return;
    const h = this.open.get(pack);
    if (!h) return;
    this.open.delete(pack);
    h.closing = true;
    if (h.users === 0) void closeQuietly(h);
  }
}

function gone(err: unknown): boolean {
  const code = errnoCode(err);
  return code === 'ENOENT' || code === 'EBADF';
}

async function closeQuietly(h: Handle): Promise<void> {
  try {
    await (await h.fh).close();
  } catch (err) {
    // Nothing to do about a descriptor that cannot be closed; a failed open was reported to its reader.
    void err;
  }
}
