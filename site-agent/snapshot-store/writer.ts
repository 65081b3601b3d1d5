// Writes one snapshot into the store: each file is read, cut into chunks (chunker.ts), each chunk
// hashed, looked up, and if new compressed in the codec workers and appended to the open pack
// (pack-writer.ts); the manifest is written at commit, after the packs holding its chunks are
// durable. Files of one snapshot are added concurrently; chunks in flight are bounded per file.
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { AlreadyExistsError, BrineError, InternalError, InvalidArgumentError, NotAllowedError, NotFoundError } from '../../src/shared/errors.js';
import { chunkStream } from './chunker.js';
import { codecPool } from './codec-pool.js';
import { errnoCode, writeError } from './errors.js';
import { MANIFEST_FORMAT, sha256Hex, type ChunkRef, type FileKind, type ManifestFile, type MetaValue, type SnapshotManifest } from './manifest.js';
import type { SnapshotStore } from './store.js';

/** read size for captured files: bounded memory, large enough that syscalls cost nothing */
const READ_BUFFER = 1024 * 1024;

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
    const store = this.store;
    const stream =
      typeof source === 'string'
        ? createReadStream(source, { highWaterMark: READ_BUFFER })
        : source instanceof Readable
          ? source
          : Readable.from([Buffer.from(source.buffer, source.byteOffset, source.byteLength)]);
    this.sources.add(stream);
    const limiter = new Limiter(store.writeConcurrency);
    const tasks: Array<Promise<void>> = [];
    const chunks: ChunkRef[] = [];
    let size = 0;
    try {
      for await (const chunk of chunkStream(stream, store.chunker)) {
        if (this.failure) break; // leaving the loop destroys the source
        const hash = sha256Hex(chunk);
        chunks.push({ hash, size: chunk.length });
        size += chunk.length;
        if (this.pinned.has(hash)) continue; // this snapshot already has it
        this.pinned.add(hash);
        store.pin(hash);
        // A copy: the chunk may be a view of a 1 MiB read buffer, which it would keep alive (and
        // the copy is what is cloned to the codec worker).
        const plain = Buffer.from(chunk);
        const plainSize = plain.length; // `plain` is handed over to the codec worker
        await limiter.acquire();
        const task = store
          .putChunk(hash, async () => {
            const stored = await codecPool().encode(plain, store.compression, true);
            // failed meanwhile: append nothing more (a full disk would otherwise fill up again)
            if (this.failure) throw this.failure;
            return stored;
          })
          .then((written) => {
            if (written > 0) {
              this.newBytes += plainSize;
              this.newStoredBytes += written;
            }
          })
          .catch((err: unknown) => this.fail(writeError(`storing ${name} of snapshot ${this.id}`, err)))
          .finally(() => limiter.release());
        tasks.push(task);
      }
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
    // Every chunk in flight settles (and removes its temp file if it failed) before this call does.
    await Promise.all(tasks); // never rejects: failures went to fail()
    this.sources.delete(stream);
    if (this.failure) throw this.failure;
    const file: ManifestFile = { name, ...(info.vm !== undefined ? { vm: info.vm } : {}), ...(info.kind !== undefined ? { kind: info.kind } : {}), size, chunks };
    this.files[slot] = file;
    return { name, size, chunks: chunks.length };
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
