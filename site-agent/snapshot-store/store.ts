// The site's content-addressed snapshot store (DESIGN.md "Snapshots", issue 5 point 2).
//
// Layout under the store directory (`<site dataDir>/store/`):
//   store.json             {format}: refuses to open a layout it does not know
//   chunks/ab/abcdef…      one file per chunk, named by the SHA-256 of its plain content; content
//                          is codec byte + payload (codec.ts); written once, never modified
//   manifests/<id>.json    one per snapshot, written last: the snapshot exists iff this file does
//   imports/<id>.json      the manifest of a snapshot being received from another site (issue 6):
//                          its chunks count as referenced until the import completes or is abandoned
//   tmp/<pid>-<inst>-<n>   files being written; renamed into place once complete and fsynced
//
// Durability: a chunk is written to tmp/, fsynced, renamed into chunks/ab/. The directories touched
// by renames are fsynced once per commit (not per chunk), before the manifest is written (tmp,
// fsync, rename, fsync manifests/): a power loss can lose a renamed chunk only while no manifest
// refers to it. A chunk already present is not rewritten.
//
// Collection while snapshots are being written: every hash a writer is about to reuse or write is
// *pinned* (an in-process refcount) before the writer looks at the chunk, and stays pinned until its
// manifest is on disk. The collector checks pins synchronously right before it unlinks a chunk and
// publishes the unlink in `deleting`, which a writer that pins the same hash awaits before deciding
// whether the chunk is present, so the two never cross: either the writer sees the chunk gone and
// writes it again, or the collector sees it pinned and keeps it. A writer that commits while the
// collector runs hands its hashes to the running collection before unpinning, since that
// collection listed the manifests before the new one landed. Pins are exact (no guessing from
// times) for everything in this process, which is the only writer (the agent's data-dir lock).
// Chunks received from another site before their manifest are protected by the pending import
// (`beginImport` writes the manifest to imports/, on disk, so this survives an agent restart and an
// interrupted transfer resumes with what already arrived). An optional `graceMs` also keeps
// unreferenced chunks younger than that (mtime), for operators; by default every orphan goes.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AlreadyExistsError, BrineError, InternalError, InvalidArgumentError, NotAllowedError, NotFoundError } from '../../src/shared/errors.js';
import { chunkStream, DEFAULT_CHUNKER, type ChunkerParams } from './chunker.js';
import { DEFAULT_COMPRESSION, type Compression } from './codec.js';
import { ChunkProblem, codecPool } from './codec-pool.js';
import {
  CorruptChunkError,
  CorruptManifestError,
  errnoCode,
  IncompleteSnapshotError,
  MissingChunkError,
  writeError,
  type ChunkLocation,
} from './errors.js';
import { nodeFs, type StoreFs } from './fs-port.js';
import {
  HASH_RE,
  MANIFEST_FORMAT,
  manifestHashes,
  parseManifest,
  SNAPSHOT_ID_RE,
  type ChunkRef,
  type FileKind,
  type ManifestFile,
  type MetaValue,
  type SnapshotManifest,
} from './manifest.js';

const STORE_FORMAT = 1;
/** read size for captured files: bounded memory, large enough that syscalls cost nothing */
const READ_BUFFER = 1024 * 1024;
/** unreferenced chunks younger than this survive a collection (see the header) */
export const DEFAULT_GC_GRACE_MS = 0;
/** tmp files of a live process are only that old if something went badly wrong */
const STALE_TMP_MS = 60 * 60_000;

export interface StoreOptions {
  /** the file-system calls that write (tests inject failures) */
  fs?: StoreFs;
  chunker?: ChunkerParams;
  compression?: Compression;
  /** chunks being compressed and written at once, per file being added (fsync latency hides behind it) */
  writeConcurrency?: number;
  /** chunks read and verified ahead while restoring or verifying */
  readConcurrency?: number;
}

export interface GcOptions {
  /** keep unreferenced chunks younger than this (default 0: every orphan goes) */
  graceMs?: number;
}

export interface GcResult {
  removedChunks: number;
  removedBytes: number;
  /** referenced by a manifest or pinned */
  keptChunks: number;
  /** unreferenced but younger than the grace period */
  keptYoung: number;
  removedTempFiles: number;
}

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

export interface SnapshotSummary {
  id: string;
  job: string;
  createdAt: string;
  totalBytes: number;
  newBytes: number;
  newStoredBytes: number;
  files: Array<{ name: string; vm?: string; kind?: FileKind; size: number }>;
  meta: Record<string, MetaValue>;
}

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

/**
 * What all SnapshotStore instances on one directory share in this process: pins and the
 * collector's state must be common to every handle, or two handles would not see each other.
 */
interface SharedState {
  pins: Map<string, number>;
  /** hash → unlink in progress (the collector) */
  deleting: Map<string, Promise<void>>;
  /** hash → write in progress: resolves to the stored bytes written */
  writing: Map<string, Promise<number>>;
  /** while a collection runs: hashes committed since it listed the manifests */
  gcLive: Set<string> | null;
  gcRunning: Promise<GcResult> | null;
  /** chunk directories with renames not yet fsynced */
  dirtyDirs: Set<string>;
  syncingDirs: Map<string, Promise<void>>;
  /** snapshot ids with an open writer */
  openIds: Set<string>;
  manifests: Map<string, SnapshotManifest>;
}

const shared = new Map<string, SharedState>();

function sharedFor(dir: string): SharedState {
  let s = shared.get(dir);
  if (!s) {
    s = {
      pins: new Map(),
      deleting: new Map(),
      writing: new Map(),
      gcLive: null,
      gcRunning: null,
      dirtyDirs: new Set(),
      syncingDirs: new Map(),
      openIds: new Set(),
      manifests: new Map(),
    };
    shared.set(dir, s);
  }
  return s;
}

export function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Where a site keeps its store. */
export function storeDir(dataDir: string): string {
  return join(dataDir, 'store');
}

function checkHash(hash: string): void {
  if (!HASH_RE.test(hash)) throw new InvalidArgumentError('hash', `not a SHA-256 hex digest: ${JSON.stringify(hash)}`);
}

function checkId(id: string): void {
  if (!SNAPSHOT_ID_RE.test(id)) throw new InvalidArgumentError('snapshotId', `letters, digits, '.', '_', '-' (not first), at most 128: ${JSON.stringify(id)}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return errnoCode(err) === 'EPERM';
  }
}

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

/** Runs `fn` over `items` with at most `limit` at once. */
async function forEachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item);
    }
  });
  await Promise.all(workers);
}

export class SnapshotStore {
  readonly dir: string;
  readonly chunker: ChunkerParams;
  readonly compression: Compression;
  /** @internal */ readonly fs: StoreFs;
  /** @internal */ readonly writeConcurrency: number;
  private readonly readConcurrency: number;
  /** @internal */ readonly s: SharedState;
  private readonly instance = randomBytes(4).toString('hex');
  private tmpSeq = 0;

  private constructor(dir: string, opts: StoreOptions) {
    this.dir = dir;
    this.fs = opts.fs ?? nodeFs;
    this.chunker = opts.chunker ?? DEFAULT_CHUNKER;
    this.compression = opts.compression ?? DEFAULT_COMPRESSION;
    this.writeConcurrency = opts.writeConcurrency ?? 8;
    this.readConcurrency = opts.readConcurrency ?? 4;
    this.s = sharedFor(dir);
  }

  /** Opens (creating if needed) the store in `dir`, and removes temp files of dead processes. */
  static async open(dir: string, opts: StoreOptions = {}): Promise<SnapshotStore> {
    const store = new SnapshotStore(resolve(dir), opts);
    await store.init();
    return store;
  }

  private async init(): Promise<void> {
    const { dir } = this;
    const chunks = join(dir, 'chunks');
    await mkdir(chunks, { recursive: true });
    await mkdir(join(dir, 'manifests'), { recursive: true });
    await mkdir(join(dir, 'tmp'), { recursive: true });
    await mkdir(join(dir, 'imports'), { recursive: true });
    // All 256 fan-out directories up front: no mkdir (and its fsync) on the write path.
    const existing = new Set(await readdir(chunks));
    const created: string[] = [];
    for (let i = 0; i < 256; i++) {
      const sub = i.toString(16).padStart(2, '0');
      if (!existing.has(sub)) {
        await mkdir(join(chunks, sub), { recursive: true });
        created.push(sub);
      }
    }
    const formatFile = join(dir, 'store.json');
    let format: unknown;
    try {
      format = (JSON.parse(await readFile(formatFile, 'utf8')) as { format?: unknown }).format;
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') throw new InternalError(`snapshot store ${dir}: unreadable store.json`, err);
      await this.writeAtomic(formatFile, Buffer.from(JSON.stringify({ format: STORE_FORMAT }) + '\n'), 'store');
      format = STORE_FORMAT;
    }
    if (format !== STORE_FORMAT) throw new NotAllowedError(`snapshot store ${dir} has format ${String(format)}; this brine reads format ${STORE_FORMAT}`);
    if (created.length > 0) {
      await this.fs.fsyncDir(chunks);
      await this.fs.fsyncDir(dir);
    }
    await this.cleanTemp();
  }

  // ---------------------------------------------------------------------------------------------
  // paths and small helpers

  /** @internal */ chunkPath(hash: string): string {
    return join(this.dir, 'chunks', hash.slice(0, 2), hash);
  }

  private manifestPath(id: string): string {
    return join(this.dir, 'manifests', `${id}.json`);
  }

  private importPath(id: string): string {
    return join(this.dir, 'imports', `${id}.json`);
  }

  /** @internal */ tmpPath(kind: string): string {
    return join(this.dir, 'tmp', `${process.pid}-${this.instance}-${++this.tmpSeq}.${kind}`);
  }

  /** @internal */ async hasChunk(hash: string): Promise<boolean> {
    try {
      await stat(this.chunkPath(hash));
      return true;
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return false;
      throw err;
    }
  }

  /** Pins hashes against collection until the returned function is called. */
  hold(hashes: Iterable<string>): () => void {
    const list = [...new Set(hashes)];
    for (const h of list) checkHash(h);
    for (const h of list) this.pin(h);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.unpin(list, false);
    };
  }

  /** @internal */ pin(hash: string): void {
    this.s.pins.set(hash, (this.s.pins.get(hash) ?? 0) + 1);
  }

  /**
   * @internal Unpins; `nowReferenced`: a manifest naming them has just landed, so a collection
   * that listed manifests before it must count them as live.
   */
  unpin(hashes: Iterable<string>, nowReferenced: boolean): void {
    const live = this.s.gcLive;
    for (const h of hashes) {
      if (nowReferenced && live) live.add(h);
      const n = (this.s.pins.get(h) ?? 0) - 1;
      if (n > 0) this.s.pins.set(h, n);
      else this.s.pins.delete(h);
    }
  }

  /**
   * @internal Makes sure the chunk is in the store, writing it (tmp, fsync, rename) if it is not.
   * The caller has pinned `hash`. Returns the bytes written on disk, 0 if the chunk was there (or
   * another writer put it there meanwhile). Throws raw I/O errors.
   */
  async putChunk(hash: string, encode: () => Promise<Buffer>): Promise<number> {
    for (;;) {
      // A collection that started unlinking before our pin: let it finish, then look.
      const deleting = this.s.deleting.get(hash);
      if (deleting) await deleting.catch(ignore);
      const other = this.s.writing.get(hash);
      if (other) {
        await other.catch(ignore);
        if (await this.hasChunk(hash)) return 0;
        continue; // the other write failed: try ourselves
      }
      if (await this.hasChunk(hash)) return 0;
      if (this.s.writing.has(hash)) continue; // someone started while we looked
      const write = this.writeChunkFile(hash, encode);
      this.s.writing.set(hash, write);
      try {
        return await write;
      } finally {
        this.s.writing.delete(hash);
      }
    }
  }

  private async writeChunkFile(hash: string, encode: () => Promise<Buffer>): Promise<number> {
    const data = await encode();
    const tmp = this.tmpPath('chunk');
    try {
      await this.fs.writeNew(tmp, data);
      await this.fs.rename(tmp, this.chunkPath(hash));
    } catch (err) {
      await this.fs.unlink(tmp).catch(ignore);
      throw err;
    }
    this.s.dirtyDirs.add(join(this.dir, 'chunks', hash.slice(0, 2)));
    return data.length;
  }

  /**
   * @internal Makes every chunk rename done so far durable: fsyncs the directories renamed into
   * and waits for fsyncs others started (a chunk we reuse may sit in a directory whose fsync is
   * still under way on behalf of another writer).
   */
  async syncChunkDirs(): Promise<void> {
    const { dirtyDirs, syncingDirs } = this.s;
    for (const d of [...dirtyDirs]) {
      dirtyDirs.delete(d);
      const prev = syncingDirs.get(d) ?? Promise.resolve();
      const p = prev.catch(ignore).then(() => this.fs.fsyncDir(d));
      const tracked = p.finally(() => {
        if (syncingDirs.get(d) === tracked) syncingDirs.delete(d);
      });
      syncingDirs.set(d, tracked);
      // On failure the directory is dirty again: a later commit retries it.
      p.catch(() => dirtyDirs.add(d));
    }
    await Promise.all([...syncingDirs.values()]);
  }

  /** tmp, fsync, rename, fsync dir. Removes the tmp file on failure. */
  private async writeAtomic(path: string, data: Buffer, kind: string): Promise<void> {
    const tmp = this.tmpPath(kind);
    try {
      await this.fs.writeNew(tmp, data);
      await this.fs.rename(tmp, path);
    } catch (err) {
      await this.fs.unlink(tmp).catch(ignore);
      throw err;
    }
    const dir = join(path, '..');
    await this.fs.fsyncDir(dir);
  }

  /** @internal Writes a manifest atomically; a failure leaves no manifest behind. */
  async writeManifest(m: SnapshotManifest): Promise<void> {
    const path = this.manifestPath(m.id);
    if (await exists(path)) throw new AlreadyExistsError(`snapshot ${m.id} already exists in the store`);
    try {
      await this.writeAtomic(path, Buffer.from(JSON.stringify(m) + '\n'), 'manifest');
    } catch (err) {
      // The rename may have happened before the failure (the directory fsync failed): a manifest
      // that is not known durable must not stay, or the snapshot would half-exist.
      await this.fs.unlink(path).catch(ignore);
      throw err;
    }
    this.s.manifests.set(m.id, m);
  }

  // ---------------------------------------------------------------------------------------------
  // writing

  /** Starts a snapshot; nothing is visible until the writer's `commit` returns. */
  async beginSnapshot(id: string, job: string): Promise<SnapshotWriter> {
    checkId(id);
    if (!job) throw new InvalidArgumentError('job', 'must not be empty');
    if (this.s.openIds.has(id)) throw new AlreadyExistsError(`snapshot ${id} is already being written`);
    if (await exists(this.manifestPath(id))) throw new AlreadyExistsError(`snapshot ${id} already exists in the store`);
    if (this.s.openIds.has(id)) throw new AlreadyExistsError(`snapshot ${id} is already being written`);
    this.s.openIds.add(id);
    return new SnapshotWriter(this, id, job);
  }

  // ---------------------------------------------------------------------------------------------
  // reading

  /** The snapshot's manifest; NotFoundError if it is not in the store. */
  async manifest(id: string): Promise<SnapshotManifest> {
    checkId(id);
    const cached = this.s.manifests.get(id);
    if (cached) return cached;
    let text: string;
    try {
      text = await readFile(this.manifestPath(id), 'utf8');
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') throw new NotFoundError('snapshot', id);
      throw err;
    }
    let m: SnapshotManifest;
    try {
      m = parseManifest(JSON.parse(text), `manifests/${id}.json`);
    } catch (err) {
      throw new CorruptManifestError(id, err instanceof Error ? err.message : String(err), err);
    }
    if (m.id !== id) throw new CorruptManifestError(id, `it names snapshot ${m.id}`);
    this.s.manifests.set(id, m);
    return m;
  }

  private async manifestIds(): Promise<string[]> {
    const names = await readdir(join(this.dir, 'manifests'));
    return names.filter((n) => n.endsWith('.json')).map((n) => n.slice(0, -5)).filter((id) => SNAPSHOT_ID_RE.test(id));
  }

  /** Snapshots in the store (of one job if given), oldest first. */
  async list(job?: string): Promise<SnapshotSummary[]> {
    const out: SnapshotSummary[] = [];
    for (const id of await this.manifestIds()) {
      let m: SnapshotManifest;
      try {
        m = await this.manifest(id);
      } catch (err) {
        if (err instanceof NotFoundError) continue; // deleted meanwhile
        throw err;
      }
      if (job !== undefined && m.job !== job) continue;
      out.push({
        id: m.id,
        job: m.job,
        createdAt: m.createdAt,
        totalBytes: m.totalBytes,
        newBytes: m.newBytes,
        newStoredBytes: m.newStoredBytes,
        files: m.files.map(({ name, vm, kind, size }) => ({ name, ...(vm !== undefined ? { vm } : {}), ...(kind !== undefined ? { kind } : {}), size })),
        meta: m.meta,
      });
    }
    return out.sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  private async fileOf(id: string, name: string): Promise<ManifestFile> {
    const m = await this.manifest(id);
    const f = m.files.find((x) => x.name === name);
    if (!f) throw new NotFoundError(`file ${name} of snapshot`, id);
    return f;
  }

  /** Reads, decodes and checks one chunk against its name and expected size. */
  private async loadChunk(ref: ChunkRef, loc: ChunkLocation): Promise<Buffer> {
    let stored: Buffer;
    try {
      stored = await readFile(this.chunkPath(ref.hash));
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') throw new MissingChunkError(loc);
      throw err;
    }
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
  openFile(snapshotId: string, name: string): Readable {
    const gen = async function* (this: SnapshotStore): AsyncGenerator<Buffer> {
      const f = await this.fileOf(snapshotId, name);
      const release = this.hold(f.chunks.map((c) => c.hash));
      try {
        const offsets: number[] = [];
        let off = 0;
        for (const c of f.chunks) {
          offsets.push(off);
          off += c.size;
        }
        const load = (i: number): Promise<Buffer> => {
          const ref = f.chunks[i] as ChunkRef;
          const p = this.loadChunk(ref, { snapshotId, file: name, chunk: ref.hash, offset: offsets[i] as number });
          p.catch(ignore); // read ahead: a failure is reported when its turn comes
          return p;
        };
        const ahead: Array<Promise<Buffer>> = [];
        let next = 0;
        while (next < f.chunks.length && ahead.length < this.readConcurrency) ahead.push(load(next++));
        while (ahead.length > 0) {
          const buf = await (ahead.shift() as Promise<Buffer>);
          if (next < f.chunks.length) ahead.push(load(next++));
          yield buf;
        }
      } finally {
        release();
      }
    };
    return Readable.from(gen.call(this), { objectMode: false });
  }

  /**
   * Restores one file to `destPath`, verifying every chunk. Writes a temp file beside it and renames
   * it at the end: a failed restore leaves nothing at `destPath`.
   */
  async restoreFile(snapshotId: string, name: string, destPath: string): Promise<{ bytes: number }> {
    const f = await this.fileOf(snapshotId, name); // NotFound before anything is created
    const tmp = `${destPath}.brine-restore-${randomBytes(4).toString('hex')}`;
    try {
      await pipeline(this.openFile(snapshotId, name), createWriteStream(tmp, { flags: 'wx' }));
      await rename(tmp, destPath);
    } catch (err) {
      await unlink(tmp).catch(ignore);
      throw err;
    }
    return { bytes: f.size };
  }

  /** Reads every chunk of a snapshot and reports those missing or corrupt. */
  async verify(snapshotId: string): Promise<VerifyResult> {
    const m = await this.manifest(snapshotId);
    const hashes = [...manifestHashes(m)];
    const release = this.hold(hashes);
    const sizes = new Map<string, number>();
    for (const f of m.files) for (const c of f.chunks) sizes.set(c.hash, c.size);
    const problems = new Map<string, { problem: 'missing' | 'corrupt'; detail: string }>();
    try {
      await forEachLimited(hashes, this.readConcurrency, async (hash) => {
        try {
          await this.loadChunk({ hash, size: sizes.get(hash) ?? 0 }, { snapshotId, file: '', chunk: hash, offset: -1 });
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
      for (const c of f.chunks) {
        const p = problems.get(c.hash);
        if (p && !seen.has(c.hash)) {
          seen.add(c.hash);
          damaged.push({ file: f.name, chunk: c.hash, offset: off, ...p });
        }
        off += c.size;
      }
    }
    return { snapshotId, ok: damaged.length === 0, checkedChunks: hashes.length, damaged };
  }

  // ---------------------------------------------------------------------------------------------
  // deletion, retention, collection

  /** Removes a snapshot's manifest; its chunks go at the next collection if nothing else uses them. */
  async delete(id: string): Promise<void> {
    checkId(id);
    try {
      await unlink(this.manifestPath(id));
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') throw new NotFoundError('snapshot', id);
      throw err;
    }
    this.s.manifests.delete(id);
    await this.fs.fsyncDir(join(this.dir, 'manifests'));
  }

  /** Keeps the job's last `keep` snapshots (by createdAt) and deletes the older ones; returns their ids. */
  async retain(job: string, keep: number): Promise<string[]> {
    if (!Number.isInteger(keep) || keep < 0) throw new InvalidArgumentError('keep', `a whole number ≥ 0, got ${keep}`);
    const all = await this.list(job);
    const drop = all.slice(0, Math.max(0, all.length - keep)).map((s) => s.id);
    for (const id of drop) {
      try {
        await this.delete(id);
      } catch (err) {
        if (!(err instanceof NotFoundError)) throw err;
      }
    }
    return drop;
  }

  /**
   * Removes chunks no manifest references (and that nobody pins, and older than the grace period),
   * and temp files of dead processes. Safe while snapshots are written (see the header). A manifest
   * that cannot be read stops the collection before anything is removed: its chunks are unknown.
   */
  async collectGarbage(opts: GcOptions = {}): Promise<GcResult> {
    while (this.s.gcRunning) await this.s.gcRunning.catch(ignore);
    const run = this.runGc(opts.graceMs ?? DEFAULT_GC_GRACE_MS);
    this.s.gcRunning = run;
    try {
      return await run;
    } finally {
      this.s.gcRunning = null;
    }
  }

  private gcQueued: Promise<GcResult> | null = null;

  /**
   * A collection in the background, off the caller's path (a prune answers once its manifests are
   * gone; the chunk scan, which grows with the store, runs after). Calls while one is queued and not
   * yet started share it: a burst of prunes costs one scan.
   */
  collectGarbageSoon(opts: GcOptions = {}): Promise<GcResult> {
    if (this.gcQueued) return this.gcQueued;
    const queued = (async () => {
      while (this.s.gcRunning) await this.s.gcRunning.catch(ignore);
      this.gcQueued = null; // from here on a new call queues the next scan
      return this.collectGarbage(opts);
    })();
    this.gcQueued = queued;
    return queued;
  }

  private async runGc(graceMs: number): Promise<GcResult> {
    const s = this.s;
    // Set before listing manifests: a commit from now on reports its hashes here (see unpin).
    const live = new Set<string>();
    s.gcLive = live;
    const result: GcResult = { removedChunks: 0, removedBytes: 0, keptChunks: 0, keptYoung: 0, removedTempFiles: 0 };
    try {
      for (const id of await this.manifestIds()) {
        let m: SnapshotManifest;
        try {
          m = await this.manifest(id);
        } catch (err) {
          if (err instanceof NotFoundError) continue;
          throw err;
        }
        for (const h of manifestHashes(m)) live.add(h);
      }
      for (const id of await this.pendingImports()) {
        const m = await this.pendingImport(id);
        if (m) for (const h of manifestHashes(m)) live.add(h);
      }
      const cutoff = Date.now() - graceMs;
      const keep = (h: string): boolean => live.has(h) || s.pins.has(h) || s.writing.has(h) || s.deleting.has(h);
      for (let i = 0; i < 256; i++) {
        const sub = join(this.dir, 'chunks', i.toString(16).padStart(2, '0'));
        for (const name of await readdir(sub)) {
          if (!HASH_RE.test(name)) continue; // not ours: leave it
          if (keep(name)) {
            result.keptChunks++;
            continue;
          }
          const path = join(sub, name);
          let st;
          try {
            st = await stat(path);
          } catch (err) {
            if (errnoCode(err) === 'ENOENT') continue;
            throw err;
          }
          if (st.mtimeMs > cutoff) {
            result.keptYoung++;
            continue;
          }
          // Decide and publish synchronously: no await between this check and `deleting.set`.
          if (keep(name)) {
            result.keptChunks++;
            continue;
          }
          const del = unlink(path).catch((err: unknown) => {
            if (errnoCode(err) !== 'ENOENT') throw err;
          });
          const tracked = del.finally(() => s.deleting.delete(name));
          s.deleting.set(name, tracked);
          await tracked;
          result.removedChunks++;
          result.removedBytes += st.size;
        }
      }
      result.removedTempFiles = await this.cleanTemp();
    } finally {
      s.gcLive = null;
    }
    return result;
  }

  /** Removes temp files left by processes that are gone (a crash mid-write). */
  private async cleanTemp(): Promise<number> {
    const dir = join(this.dir, 'tmp');
    let removed = 0;
    for (const name of await readdir(dir)) {
      const pid = Number(name.split('-')[0]);
      const path = join(dir, name);
      let dead = !Number.isInteger(pid) || pid <= 0 || !isAlive(pid);
      if (!dead && pid !== process.pid) {
        // pid reused by an unrelated process: only an old file tells
        const st = await stat(path).catch(() => undefined);
        dead = st !== undefined && Date.now() - st.mtimeMs > STALE_TMP_MS;
      }
      if (!dead) continue;
      try {
        await unlink(path);
        removed++;
      } catch (err) {
        if (errnoCode(err) !== 'ENOENT') throw err;
      }
    }
    return removed;
  }

  // ---------------------------------------------------------------------------------------------
  // transfer between sites (issue 6): "which chunks do you have / send me these"

  /** Those of `hashes` (deduplicated, in order) that are not in the store. */
  async missingChunks(hashes: readonly string[]): Promise<string[]> {
    const unique = [...new Set(hashes)];
    for (const h of unique) checkHash(h);
    const missing = new Set<string>();
    await forEachLimited(unique, 16, async (h) => {
      if (!(await this.hasChunk(h))) missing.add(h);
    });
    return unique.filter((h) => missing.has(h));
  }

  /**
   * A chunk's stored bytes (codec byte + payload), to send as they are; the receiver verifies.
   * To keep a snapshot's chunks from being collected during a long send, `hold()` them.
   */
  async readChunkCompressed(hash: string): Promise<Buffer> {
    checkHash(hash);
    try {
      return await readFile(this.chunkPath(hash));
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') throw new MissingChunkError({ snapshotId: '', file: '', chunk: hash, offset: -1 });
      throw err;
    }
  }

  /**
   * Stores a chunk received from another store, after checking that it decodes to content whose
   * SHA-256 is `hash` (CorruptChunkError otherwise). Returns whether it was written (false: it was
   * already there). Until a manifest references it, only a pending import (`beginImport`) or
   * `hold()` keeps it from the collector.
   */
  async writeChunkCompressed(hash: string, data: Uint8Array): Promise<boolean> {
    checkHash(hash);
    const loc: ChunkLocation = { snapshotId: '', file: '', chunk: hash, offset: -1 };
    let stored: Buffer;
    try {
      // our own copy of the bytes, verified: the caller's buffer may be reused once we return
      stored = await codecPool().verifyStored(data, hash);
    } catch (err) {
      if (err instanceof ChunkProblem) throw new CorruptChunkError(loc, err.message, err);
      throw err;
    }
    this.pin(hash);
    try {
      return (await this.putChunk(hash, async () => stored)) > 0;
    } catch (err) {
      throw writeError(`storing chunk ${hash}`, err);
    } finally {
      this.unpin([hash], false);
    }
  }

  /**
   * Starts receiving a snapshot from another store: records its manifest under imports/ (durably),
   * so the chunks that arrive are never collected, even across a restart, until `importManifest`
   * or `abandonImport`. Returns the chunks still missing (all of them the first time, fewer when
   * an interrupted transfer resumes; none if the snapshot is already here). Idempotent.
   */
  async beginImport(raw: SnapshotManifest | unknown): Promise<string[]> {
    const m = parseManifest(raw, 'imported manifest');
    if (this.s.openIds.has(m.id)) throw new AlreadyExistsError(`snapshot ${m.id} is being written here`);
    try {
      const here = await this.manifest(m.id);
      if (JSON.stringify(here) === JSON.stringify(m)) return [];
      throw new AlreadyExistsError(`snapshot ${m.id} already exists in the store with other content`);
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
    }
    const pending = await this.pendingImport(m.id);
    if (pending && JSON.stringify(pending) !== JSON.stringify(m)) throw new AlreadyExistsError(`another import of snapshot ${m.id} is pending (abandonImport it first)`);
    const hashes = [...manifestHashes(m)];
    if (!pending) {
      try {
        await this.writeAtomic(this.importPath(m.id), Buffer.from(JSON.stringify(m) + '\n'), 'import');
      } catch (err) {
        throw writeError(`recording the import of snapshot ${m.id}`, err);
      }
      // A collection that listed imports before this record landed must count its chunks as live too.
      const live = this.s.gcLive;
      if (live) for (const h of hashes) live.add(h);
    }
    return this.missingChunks(hashes);
  }

  /** Snapshots whose import was begun and neither completed nor abandoned (e.g. before a restart). */
  async pendingImports(): Promise<string[]> {
    const names = await readdir(join(this.dir, 'imports'));
    return names.filter((n) => n.endsWith('.json')).map((n) => n.slice(0, -5)).filter((id) => SNAPSHOT_ID_RE.test(id));
  }

  /** The manifest of a pending import, or undefined. A damaged record is refused, like a manifest. */
  async pendingImport(id: string): Promise<SnapshotManifest | undefined> {
    checkId(id);
    let text: string;
    try {
      text = await readFile(this.importPath(id), 'utf8');
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

  /** Gives up a pending import: its chunks that nothing else uses go at the next collection. */
  async abandonImport(id: string): Promise<void> {
    checkId(id);
    try {
      await unlink(this.importPath(id));
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') throw err;
    }
  }

  /**
   * Adds a snapshot received from another store (completing `beginImport`, if one was made).
   * Refuses (IncompleteSnapshotError, listing them) if any of its chunks is not here. Importing the
   * same manifest again is a no-op.
   */
  async importManifest(raw: SnapshotManifest | unknown): Promise<void> {
    const m = parseManifest(raw, 'imported manifest');
    if (this.s.openIds.has(m.id)) throw new AlreadyExistsError(`snapshot ${m.id} is being written here`);
    try {
      const here = await this.manifest(m.id);
      if (JSON.stringify(here) === JSON.stringify(m)) return;
      throw new AlreadyExistsError(`snapshot ${m.id} already exists in the store with other content`);
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
    }
    const hashes = [...manifestHashes(m)];
    this.s.openIds.add(m.id);
    for (const h of hashes) this.pin(h);
    let landed = false;
    try {
      // Pinned first, so nothing is collected between this check and the manifest landing.
      await Promise.all(hashes.map((h) => this.s.deleting.get(h)?.catch(ignore)));
      const missing = await this.missingChunks(hashes);
      if (missing.length > 0) throw new IncompleteSnapshotError(m.id, missing);
      try {
        await this.syncChunkDirs();
        await this.writeManifest(m);
      } catch (err) {
        throw writeError(`importing snapshot ${m.id}`, err);
      }
      landed = true;
    } finally {
      this.unpin(hashes, landed);
      this.s.openIds.delete(m.id);
    }
    // After the manifest: from now on the manifest protects the chunks.
    await this.abandonImport(m.id);
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return false;
    throw err;
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
          .putChunk(hash, () => codecPool().encode(plain, store.compression, true))
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
      await this.store.syncChunkDirs();
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

  /** Abandons the snapshot: stops files being added, writes no manifest. Shared chunks are untouched. */
  async abort(): Promise<void> {
    if (this.state === 'committed') throw new NotAllowedError(`snapshot ${this.id} is already committed`);
    if (this.state === 'committing') throw new NotAllowedError(`snapshot ${this.id} is being committed`);
    this.fail(new NotAllowedError(`snapshot ${this.id} was aborted`));
    await this.finish(false);
  }
}
