// Appends chunks to pack files (pack-format.ts): one pack open at a time per store, in tmp/, fed
// by every writer and import of the process; appends are serialised, in call order.
//
// Durability: a pack is sealed when it reaches its target size (in the background: appends go on
// into the next one) or when someone needs its chunks durable (a commit, an import): trailer
// appended, one fdatasync, renamed into packs/, packs/ fsynced. Only then does `Pack.durable`
// resolve, and only then may a manifest name its chunks. A pack that cannot be written or sealed
// is dropped whole: its chunks leave the index, its temp file is removed, and everyone waiting on
// it gets the error (their snapshot fails; nothing half-written stays visible). A crash leaves an
// unsealed pack in tmp/, removed at the next open: its chunks were never named by a manifest.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Pack, type ChunkIndex, type ChunkLoc } from './chunk-index.js';
import type { AppendFile, StoreFs } from './fs-port.js';
import { encodeTrailer, MAX_PACK_BYTES, PACK_MAGIC, RECORD_HEADER, recordHeader, type PackEntry } from './pack-format.js';

/** restic's default; one fdatasync per 16 MiB instead of one per ~90 KiB chunk */
export const DEFAULT_PACK_BYTES = 16 * 1024 * 1024;
/**
 * An open pack gets an fdatasync in the background each time this much more was appended: the
 * kernel then writes it out while appends go on, instead of all 16 MiB at the seal, which a commit
 * or an import waits for (measured: a transfer's last seal and manifest were a third of its time).
 */
export const EARLY_SYNC_BYTES = 4 * 1024 * 1024;

interface OpenPack {
  pack: Pack;
  file: AppendFile;
  entries: PackEntry[];
  /** bytes appended since the last early fdatasync was started */
  unsynced: number;
  /** the early fdatasync in flight, if any */
  early?: Promise<void> | undefined;
  /**
   * What an early fdatasync failed with: the kernel reports a write-back error once per open file,
   * so the seal's own fdatasync might not see it again; the seal fails with it instead.
   */
  syncError?: unknown;
}

export interface PackWriterContext {
  fs: StoreFs;
  index: ChunkIndex;
  packsDir: string;
  /** a fresh temp path of the given kind (tmp/<pid>-…) */
  tmpPath(kind: string): string;
  packBytes: number;
}

const ignore = (): void => undefined;

export class PackWriter {
  private current: OpenPack | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  /** bumped when a pack is abandoned: appends queued before that fail with it (see write) */
  private generation = 0;
  private lastFailure: unknown;
  constructor(private readonly c: PackWriterContext) {}

  /** Runs `fn` after every append and seal queued before it. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.queue.then(fn);
    this.queue = p.catch(ignore);
    return p;
  }

  /**
   * Appends one chunk's stored bytes; once this resolves the chunk is in the index (readable, not
   * yet durable: wait for `loc.pack.durable`). Throws raw I/O errors (the pack is then dropped).
   */
  append(hash: string, stored: Uint8Array): Promise<ChunkLoc> {
    return this.write(hash, stored, true);
  }

  /** Appends a copy that the index does not name yet (a repack: see gc.ts). */
  appendUnindexed(hash: string, stored: Uint8Array): Promise<ChunkLoc> {
    return this.write(hash, stored, false);
  }

  private write(hash: string, stored: Uint8Array, indexIt: boolean): Promise<ChunkLoc> {
    const gen = this.generation;
    return this.serial(async () => {
      // Queued behind an append that failed (a full disk): fail too, rather than start a new pack
      // with the space the abandoned one just gave back.
      if (gen !== this.generation) throw this.lastFailure;
      const cur = this.current ?? (await this.openPack());
      const offset = cur.pack.size + RECORD_HEADER;
      try {
        await cur.file.append([recordHeader(hash, stored.length), stored]);
      } catch (err) {
        await this.abandon(cur, err);
        throw err;
      }
      cur.pack.size = offset + stored.length;
      cur.entries.push({ hash, offset, length: stored.length });
      cur.unsynced += RECORD_HEADER + stored.length;
      if (cur.unsynced >= EARLY_SYNC_BYTES && !cur.early) {
        cur.unsynced = 0;
        cur.early = cur.file.datasync().then(
          () => {
            cur.early = undefined;
          },
          (err: unknown) => {
            cur.syncError ??= err;
            cur.early = undefined;
          },
        );
      }
      if (indexIt) this.c.index.set(hash, cur.pack, offset, stored.length);
      const loc: ChunkLoc = { pack: cur.pack, offset, length: stored.length };
      if (cur.pack.size >= Math.min(this.c.packBytes, MAX_PACK_BYTES - 64 * 1024 * 1024)) this.detachAndSeal();
      return loc;
    });
  }

  /** Makes `pack` durable: seals it now if it is the open one, then waits for its seal. */
  async seal(pack: Pack): Promise<void> {
    if (!pack.sealed) {
      await this.serial(async () => {
        if (this.current?.pack === pack) this.detachAndSeal();
      });
    }
    await pack.durable;
  }

  private async openPack(): Promise<OpenPack> {
    const id = randomBytes(8).toString('hex');
    const path = this.c.tmpPath('pack');
    const file = await this.c.fs.createAppend(path);
    const pack = new Pack(id, path, false, 0, 0);
    const cur: OpenPack = { pack, file, entries: [], unsynced: 0 };
    try {
      await file.append([PACK_MAGIC]);
    } catch (err) {
      await this.abandon(cur, err);
      throw err;
    }
    pack.size = PACK_MAGIC.length;
    this.c.index.addPack(pack);
    this.current = cur;
    return cur;
  }

  /** Detaches the open pack (synchronously: the next append opens a new one) and seals it in the background. */
  private detachAndSeal(): void {
    const cur = this.current;
    if (!cur) return;
    this.current = undefined;
    void this.finish(cur);
  }

  private async finish(cur: OpenPack): Promise<void> {
    const { pack, file } = cur;
    const tmp = pack.path;
    const final = join(this.c.packsDir, `${pack.id}.pack`);
    let renamed = false;
    try {
      await cur.early;
      if (cur.syncError !== undefined) throw cur.syncError;
      const trailer = encodeTrailer(cur.entries);
      await file.append([trailer]);
      await file.datasync();
      if (cur.syncError !== undefined) throw cur.syncError;
      await file.close();
      await this.c.fs.rename(tmp, final);
      renamed = true;
      pack.path = final;
      await this.c.fs.fsyncDir(this.c.packsDir);
      pack.size += trailer.length;
      pack.sealed = true;
      pack.sealedAt = Date.now();
      pack.settle();
    } catch (err) {
      // Not known durable: it must not stay (a later open would find chunks no manifest can trust
      // to be there after a power loss, which is harmless, but the failure must reach the writers).
      this.c.index.dropPack(pack);
      await file.close().catch(ignore);
      await this.c.fs.unlink(renamed ? final : tmp).catch(ignore);
      pack.settle(err);
    }
  }

  private async abandon(cur: OpenPack, err: unknown): Promise<void> {
    if (this.current === cur) this.current = undefined;
    this.generation++;
    this.lastFailure = err;
    this.c.index.dropPack(cur.pack);
    await cur.file.close().catch(ignore);
    await this.c.fs.unlink(cur.pack.path).catch(ignore);
    cur.pack.settle(err);
  }

  /** Seals the open pack, if any, and waits for it (close of the store, tests). */
  async flush(): Promise<void> {
    const pack = this.current?.pack;
    if (pack) await this.seal(pack);
  }
}
