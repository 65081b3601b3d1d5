// Writes one snapshot into the store: each file is read, cut into chunks (chunker.ts), each chunk
// hashed, looked up, and if new compressed in the codec workers and appended to the open pack
// (pack-writer.ts); the manifest is written at commit, after the packs holding its chunks are
// durable. Files of one snapshot are added concurrently; chunks in flight are bounded per file.
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { AlreadyExistsError, BrineError, InternalError, InvalidArgumentError, NotAllowedError, NotFoundError } from '../../src/shared/errors.js';
import { codecPool, type ChunkRun } from './codec-pool.js';
import { errnoCode, writeError } from './errors.js';
import { MANIFEST_FORMAT, type ChunkRef, type FileKind, type ManifestFile, type MetaValue, type SnapshotManifest } from './manifest.js';
import type { SnapshotStore } from './store.js';

/** read size for captured files, and the unit handed to a worker to cut: few messages per byte */
const READ_BUFFER = 4 * 1024 * 1024;
/** blocks read and not yet stored, per file: bounds memory (~4 of them, plus compressed copies) */
const BLOCKS_IN_FLIGHT = 4;

export interface AddFileInfo {
  vm?: string;
  kind?: FileKind;
}

export interface AddedFile {
  name: string;
  size: number;
  chunks: number;
}

export interface CommitOptions {
  /** when the snapshot was taken (default: when beginSnapshot was called); orders retention */
  createdAt?: Date | string;
  meta?: Record<string, MetaValue>;
}

export type FileSource = string | Readable | Uint8Array;

const ignore = (): void => undefined;

/** A counting semaphore: bounds the chunks in flight, which bounds memory and applies backpressure. */
class Limiter {
  private active = 0;
  private readonly waiters: Array<() => void> = [];
  constructor(private readonly max: number) {}
  async acquire(): Promise<void> {
    if (this.active < this.max) {
      this.active++;
      return;
    }
    await new Promise<void>((res) => this.waiters.push(res));
  }
  release(): void {
    const next = this.waiters.shift();
    if (next) next();
    else this.active--;
  }
}

/**
 * Writes one snapshot: `addFile` for each captured file (concurrent calls allowed), then `commit`.
 * Any failure abandons the whole snapshot (the writer refuses further calls): nothing is visible,
 * the chunks it wrote are left for the collector. `abort` abandons it on purpose.
 */
export class SnapshotWriter {
  readonly id: string;
  readonly job: string;
  readonly startedAt: Date;
  private readonly store: SnapshotStore;
  private readonly files: Array<ManifestFile | undefined> = [];
  private readonly names = new Set<string>();
  /** hashes pinned by this writer (each once) */
  private readonly pinned = new Set<string>();
  private readonly active = new Set<Promise<unknown>>();
  private readonly sources = new Set<Readable>();
  private state: 'open' | 'committing' | 'committed' | 'failed' = 'open';
  private failure: BrineError | undefined;
  private newBytes = 0;
  private newStoredBytes = 0;

  /** @internal use SnapshotStore.beginSnapshot */
  constructor(store: SnapshotStore, id: string, job: string) {
    this.store = store;
    this.id = id;
    this.job = job;
    this.startedAt = new Date();
  }

  private assertOpen(): void {
    if (this.failure) throw this.failure;
    if (this.state !== 'open') throw new NotAllowedError(`snapshot ${this.id} is ${this.state}`);
  }

  /** Stores a file (a path, a stream, or bytes) as `name`. Resolves once all its chunks are written. */
  addFile(name: string, source: FileSource, info: AddFileInfo = {}): Promise<AddedFile> {
    try {
      this.assertOpen();
      if (!name) throw new InvalidArgumentError('name', 'must not be empty');
      if (this.names.has(name)) throw new AlreadyExistsError(`snapshot ${this.id} already has a file ${name}`);
    } catch (err) {
      return Promise.reject(err);
    }
    this.names.add(name);
    const slot = this.files.length;
    this.files.push(undefined);
    const p = this.ingest(slot, name, source, info);
    this.active.add(p);
    void p.catch(ignore).finally(() => this.active.delete(p));
    return p;
  }

  private async ingest(slot: number, name: string, source: FileSource, info: AddFileInfo): Promise<AddedFile> {
    const stream =
      typeof source === 'string'
        ? createReadStream(source, { highWaterMark: READ_BUFFER })
        : source instanceof Readable
          ? source
          : Readable.from([Buffer.from(source.buffer, source.byteOffset, source.byteLength)]);
    this.sources.add(stream);
    // The pipeline (issue 9): the main thread reads blocks and hands each over whole to one codec
    // worker, which cuts and hashes it (the chunker's state stays there, one stream per file); the
    // chunks come back with their hashes in order; those the store lacks are compressed as a batch
    // by another worker and appended to the open pack. Blocks in flight are bounded.
    const cutter = codecPool().cutter(this.store.chunker);
    let finished = false;
    const blocks = new Limiter(BLOCKS_IN_FLIGHT);
    const tasks: Array<Promise<void>> = [];
    const chunks: ChunkRef[] = [];
    let size = 0;
    // Cut results are taken in order (one worker answers in order) and handed on to be hashed
    // (any worker, several blocks at once); hashed runs are stored in order again.
    let cutOrder: Promise<void> = Promise.resolve();
    let storeOrder: Promise<void> = Promise.resolve();
    // Compress while hashing when most chunks turn out new (a first snapshot), in a second step
    // for the new ones only when most are already stored (every later checkpoint).
    let novelty = 1;
    const take = (cut: Promise<ChunkRun>): void => {
      cutOrder = cutOrder.then(async () => {
        let run: ChunkRun;
        try {
          run = await cut;
        } catch (err) {
          this.fail(new InternalError(`chunking ${name} for snapshot ${this.id}: ${err instanceof Error ? err.message : String(err)}`, err));
          blocks.release();
          return;
        }
        const plainSizes = run.sizes;
        const speculate = novelty > 0.5;
        const hashed = codecPool().hashMany(run.data, plainSizes, speculate, this.store.compression);
        hashed.catch(ignore); // taken below, in order
        storeOrder = storeOrder.then(async () => {
          let h: ChunkRun;
          try {
            h = await hashed;
          } catch (err) {
            this.fail(new InternalError(`hashing ${name} for snapshot ${this.id}: ${err instanceof Error ? err.message : String(err)}`, err));
            blocks.release();
            return;
          }
          const stored = this.storeRun(name, plainSizes, h, speculate, chunks);
          novelty = plainSizes.length > 0 ? stored.fresh / plainSizes.length : novelty;
          size += plainSizes.reduce((a, b) => a + b, 0);
          tasks.push(stored.done);
          void stored.done.finally(() => blocks.release());
        });
      });
    };
    try {
      for await (const piece of stream as AsyncIterable<Buffer | Uint8Array | string>) {
        if (this.failure) break; // leaving the loop destroys the source
        // Handed over to the worker (moved): only our own read buffers as they are, the caller's copied.
        const buf = typeof piece === 'string' ? Buffer.from(piece) : typeof source === 'string' ? piece : new Uint8Array(piece);
        if (buf.length === 0) continue;
        await blocks.acquire();
        take(cutter.push(buf));
      }
      await blocks.acquire();
      finished = true;
      take(cutter.finish());
    } catch (err) {
      // The source failed (or was destroyed because the snapshot failed): not a store error, but
      // the snapshot is incomplete.
      this.fail(
        errnoCode(err) === 'ENOENT' && typeof source === 'string'
          ? new NotFoundError('file to snapshot', source)
          : err instanceof BrineError
            ? err
            : new InternalError(`reading ${typeof source === 'string' ? source : name} for snapshot ${this.id}: ${err instanceof Error ? err.message : String(err)}`, err),
      );
    }
    // the worker forgets the stream either way
    if (!finished) void cutter.finish().catch(ignore);
    await cutOrder;
    await storeOrder;
    // Every chunk in flight settles (and its pack is dropped if it failed) before this call does.
    await Promise.all(tasks); // never rejects: failures went to fail()
    this.sources.delete(stream);
    if (this.failure) throw this.failure;
    const file: ManifestFile = { name, ...(info.vm !== undefined ? { vm: info.vm } : {}), ...(info.kind !== undefined ? { kind: info.kind } : {}), size, chunks };
    this.files[slot] = file;
    return { name, size, chunks: chunks.length };
  }

  /**
   * Records a run of hashed chunks in `chunks` and stores those the store lacks: as they come if
   * they came encoded, else one batch of compression for the new ones; then an append each.
   * `done` settles when they are stored (or failed); `fresh`: how many were new.
   */
  private storeRun(name: string, plainSizes: number[], run: ChunkRun, encoded: boolean, chunks: ChunkRef[]): { done: Promise<void>; fresh: number } {
    const store = this.store;
    if (this.failure) return { done: Promise.resolve(), fresh: 0 }; // abandoned: store nothing more
    const wanted: Array<{ offset: number; size: number; stored: (b: Buffer) => void; failed: (e: unknown) => void }> = [];
    const puts: Array<Promise<void>> = [];
    let batched = false;
    let fresh = 0;
    let offset = 0;
    for (let i = 0; i < plainSizes.length; i++) {
      const hash = run.hashes[i] as string;
      const chunkSize = plainSizes[i] as number;
      const width = encoded ? (run.sizes[i] as number) : chunkSize;
      const at = offset;
      offset += width;
      chunks.push({ hash, size: chunkSize });
      if (this.pinned.has(hash)) continue; // this snapshot already has it
      this.pinned.add(hash);
      store.pin(hash);
      // putChunk calls `encode` synchronously when the chunk is new (then it joins this run's
      // batch), or later if another writer's attempt at it failed meanwhile (then on its own).
      const encode = (): Promise<Buffer> => {
        fresh++;
        if (encoded) return Promise.resolve(run.data.subarray(at, at + width));
        if (batched) return codecPool().encode(Buffer.from(run.data.subarray(at, at + chunkSize)), store.compression, true);
        return new Promise<Buffer>((stored, failed) => wanted.push({ offset: at, size: chunkSize, stored, failed }));
      };
      const put = store
        .putChunk(hash, async () => {
          const b = await encode();
          // failed meanwhile: append nothing more (a full disk would otherwise fill up again)
          if (this.failure) throw this.failure;
          return b;
        })
        .then((written) => {
          if (written > 0) {
            this.newBytes += chunkSize;
            this.newStoredBytes += written;
          }
        })
        .catch((err: unknown) => this.fail(writeError(`storing ${name} of snapshot ${this.id}`, err)));
      puts.push(put);
    }
    batched = true;
    if (wanted.length > 0) {
      // Only the new chunks travel to the compressing worker, copied together (the run's buffer
      // stays here: a chunk asked for later is encoded from it).
      const plain = Buffer.concat(wanted.map((w) => run.data.subarray(w.offset, w.offset + w.size)));
      codecPool()
        .encodeMany(plain, wanted.map((w) => w.size), store.compression)
        .then(
          (enc) => {
            let off = 0;
            wanted.forEach((w, i) => {
              const n = enc.sizes[i] as number;
              w.stored(enc.data.subarray(off, off + n));
              off += n;
            });
          },
          (err: unknown) => {
            for (const w of wanted) w.failed(err);
          },
        );
    }
    return { done: Promise.all(puts).then(() => undefined), fresh };
  }

  /**
   * Marks the writer failed (the first failure wins) and stops its sources; once everything in
   * flight has settled, its pins and id are released: a failed snapshot cleans up by itself.
   */
  private fail(err: BrineError): void {
    if (this.failure) return;
    this.failure = err;
    this.state = 'failed';
    for (const s of this.sources) s.destroy();
    void this.finish(false);
  }

  private finished: Promise<void> | undefined;

  /** Waits for in-flight work, then releases pins and the id (once). */
  private finish(nowReferenced: boolean): Promise<void> {
    this.finished ??= (async () => {
      await Promise.resolve(); // let a caller inside addFile register its promise first
      while (this.active.size > 0) await Promise.allSettled([...this.active]);
      this.store.unpin(this.pinned, nowReferenced);
      this.pinned.clear();
      this.store.s.openIds.delete(this.id);
    })();
    return this.finished;
  }

  /**
   * Writes the manifest: from then on the snapshot exists. Waits for files still being added.
   * Returns the manifest; on failure nothing is visible and the writer is finished.
   */
  async commit(opts: CommitOptions = {}): Promise<SnapshotManifest> {
    this.assertOpen();
    this.state = 'committing';
    while (this.active.size > 0) await Promise.allSettled([...this.active]);
    if (this.failure) {
      await this.finish(false);
      throw this.failure;
    }
    const createdAt = opts.createdAt === undefined ? this.startedAt : new Date(opts.createdAt);
    if (Number.isNaN(createdAt.getTime())) {
      this.fail(new InvalidArgumentError('createdAt', `not a date: ${String(opts.createdAt)}`));
      await this.finish(false);
      throw this.failure;
    }
    const files = this.files.filter((f): f is ManifestFile => f !== undefined);
    const { algo, version, minSize, avgSize, maxSize } = this.store.chunker;
    const manifest: SnapshotManifest = {
      format: MANIFEST_FORMAT,
      id: this.id,
      job: this.job,
      createdAt: createdAt.toISOString(),
      chunker: { algo, version, minSize, avgSize, maxSize },
      files,
      totalBytes: files.reduce((s, f) => s + f.size, 0),
      newBytes: this.newBytes,
      newStoredBytes: this.newStoredBytes,
      meta: { ...(opts.meta ?? {}) },
    };
    try {
      // Every chunk it names durable (their packs sealed) before the manifest names them.
      await this.store.makeDurable(this.allHashes(files), `committing snapshot ${this.id}`);
      await this.store.writeManifest(manifest);
    } catch (err) {
      this.fail(writeError(`committing snapshot ${this.id}`, err));
      await this.finish(false);
      throw this.failure;
    }
    this.state = 'committed';
    await this.finish(true);
    return manifest;
  }

  private allHashes(files: ManifestFile[]): Set<string> {
    const out = new Set<string>();
    for (const f of files) for (const c of f.chunks) out.add(c.hash);
    return out;
  }

  /** Abandons the snapshot: stops files being added, writes no manifest. Shared chunks are untouched. */
  async abort(): Promise<void> {
    if (this.state === 'committed') throw new NotAllowedError(`snapshot ${this.id} is already committed`);
    if (this.state === 'committing') throw new NotAllowedError(`snapshot ${this.id} is being committed`);
    this.fail(new NotAllowedError(`snapshot ${this.id} was aborted`));
    await this.finish(false);
  }
}
