// The site's content-addressed snapshot store (DESIGN.md "Snapshots", issue 5 point 2; packs since
// issue 9). This module is the facade: opening, pins, manifests, retention; the work is done by
//   writer.ts       a snapshot being written (chunk, hash, compress, append)
//   pack-writer.ts  the pack being appended to, sealing (one fdatasync per pack)
//   chunk-index.ts  hash → pack, offset, length (in memory, from the packs' trailers)
//   pack-reader.ts  reading stored chunks out of packs
//   reading.ts      restore / stream / verify, every chunk checked
//   imports.ts      transfers between sites
//   gc.ts           the collector (whole packs, repacking)
//   legacy.ts       converting a format-1 store (one file per chunk) at open
//
// Layout under the store directory (`<site dataDir>/store/`):
//   store.json             {format: 2}: refuses to open a layout it does not know (format 1 is converted)
//   packs/<16 hex>.pack    sealed packs (pack-format.ts): chunk records, then their index; never modified
//   manifests/<id>.json    one per snapshot, written last: the snapshot exists iff this file does
//   imports/<id>.json      the manifest of a snapshot being received from another site (issue 6):
//                          its chunks count as referenced until the import completes or is abandoned
//   tmp/<pid>-<inst>-<n>   files being written (the open pack, manifests before their rename);
//                          those of dead processes are removed at open
//
// Durability: a snapshot's manifest is written (tmp, fsync, rename, fsync dir) only once every pack
// holding one of its chunks is sealed and durable. A crash leaves at most an unsealed pack in tmp/.
//
// Collection while snapshots are being written: every hash a writer is about to reuse or write is
// *pinned* (an in-process refcount) before the writer looks it up, and stays pinned until its
// manifest is on disk; the collector takes a pack's chunks out of the index only in the same
// synchronous step in which it checks the pins (gc.ts). A writer that commits while the collector
// runs hands its hashes to the running collection before unpinning, since that collection listed
// the manifests before the new one landed. Pins are exact for everything in this process, which is
// the only writer (the agent's data-dir lock). An optional `graceMs` also keeps unreferenced chunks
// of packs younger than that, for operators; by default every orphan goes.
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, stat, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { AlreadyExistsError, InternalError, InvalidArgumentError, NotAllowedError, NotFoundError } from '../../src/shared/errors.js';
import { silentLogger, type Logger } from '../../src/shared/logger.js';
import { writeAtomic } from './atomic-write.js';
import { DEFAULT_CHUNKER, type ChunkerParams } from './chunker.js';
import type { Pack } from './chunk-index.js';
import { DEFAULT_COMPRESSION, type Compression } from './codec.js';
import { CorruptManifestError, errnoCode, StoreWriteError } from './errors.js';
import { nodeFs, type StoreFs } from './fs-port.js';
import { DEFAULT_MAX_UNUSED, runGc, type GcOptions, type GcResult } from './gc.js';
import * as imports from './imports.js';
import { convertLegacyChunks } from './legacy.js';
import { HASH_RE, parseManifest, SNAPSHOT_ID_RE, type FileKind, type ManifestFile, type MetaValue, type SnapshotManifest } from './manifest.js';
import { DEFAULT_PACK_BYTES, PackWriter } from './pack-writer.js';
import * as reading from './reading.js';
import { sharedFor, type SharedState } from './state.js';
import { SnapshotWriter } from './writer.js';

export { sha256Hex } from './manifest.js';
export type { GcOptions, GcResult } from './gc.js';
export type { DamagedChunk, VerifyResult } from './reading.js';
export { SnapshotWriter, type AddFileInfo, type AddedFile, type CommitOptions, type FileSource } from './writer.js';

const STORE_FORMAT = 2;
/** one file per chunk (before issue 9): converted to packs at open */
const LEGACY_FORMAT = 1;
/** unreferenced chunks younger than this survive a collection (see the header) */
export const DEFAULT_GC_GRACE_MS = 0;
/** tmp files of a live process are only that old if something went badly wrong */
const STALE_TMP_MS = 60 * 60_000;

export interface StoreOptions {
  /** the file-system calls that write (tests inject failures) */
  fs?: StoreFs;
  chunker?: ChunkerParams;
  compression?: Compression;
  /** chunks being compressed and written at once, per file being added */
  writeConcurrency?: number;
  /** chunks read and verified ahead while restoring or verifying */
  readConcurrency?: number;
  /** target size of a pack file (default 16 MiB) */
  packBytes?: number;
  /** for the conversion of an old store and damaged packs (default: silent) */
  logger?: Logger;
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

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return false;
    throw err;
  }
}

export class SnapshotStore {
  readonly dir: string;
  readonly chunker: ChunkerParams;
  readonly compression: Compression;
  /** @internal */ readonly fs: StoreFs;
  /** @internal */ readonly writeConcurrency: number;
  /** @internal */ readonly readConcurrency: number;
  /** @internal */ readonly s: SharedState;
  private readonly log: Logger;
  private readonly packBytes: number;
  private readonly instance = randomBytes(4).toString('hex');
  private tmpSeq = 0;

  private constructor(dir: string, opts: StoreOptions) {
    this.dir = dir;
    this.fs = opts.fs ?? nodeFs;
    this.chunker = opts.chunker ?? DEFAULT_CHUNKER;
    this.compression = opts.compression ?? DEFAULT_COMPRESSION;
    this.writeConcurrency = opts.writeConcurrency ?? 8;
    this.readConcurrency = opts.readConcurrency ?? 8;
    this.packBytes = opts.packBytes ?? DEFAULT_PACK_BYTES;
    this.log = opts.logger ?? silentLogger;
    this.s = sharedFor(dir);
  }

  /** Opens (creating if needed) the store in `dir`, and removes temp files of dead processes. */
  static async open(dir: string, opts: StoreOptions = {}): Promise<SnapshotStore> {
    const store = new SnapshotStore(resolve(dir), opts);
    await store.init();
    return store;
  }

  /** @internal The process's pack writer for this directory (the first handle's file-system calls). */
  get packs(): PackWriter {
    this.s.packs ??= new PackWriter({ fs: this.fs, index: this.s.index, packsDir: join(this.dir, 'packs'), tmpPath: (k) => this.tmpPath(k), packBytes: this.packBytes });
    return this.s.packs;
  }

  private async init(): Promise<void> {
    const { dir } = this;
    for (const sub of ['packs', 'manifests', 'tmp', 'imports']) await mkdir(join(dir, sub), { recursive: true });
    const formatFile = join(dir, 'store.json');
    let format: unknown;
    try {
      format = (JSON.parse(await readFile(formatFile, 'utf8')) as { format?: unknown }).format;
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') throw new InternalError(`snapshot store ${dir}: unreadable store.json`, err);
      // A directory with chunks/ but no store.json is not ours to guess about: only a new store gets one.
      format = (await exists(join(dir, 'chunks'))) ? undefined : STORE_FORMAT;
      if (format === STORE_FORMAT) await this.writeSmallFile(formatFile, Buffer.from(JSON.stringify({ format: STORE_FORMAT }) + '\n'), 'store');
    }
    if (format !== STORE_FORMAT && format !== LEGACY_FORMAT) throw new NotAllowedError(`snapshot store ${dir} has format ${String(format)}; this brine reads formats ${LEGACY_FORMAT} and ${STORE_FORMAT}`);
    await this.fs.fsyncDir(dir);
    await this.cleanTemp();
    await this.s.index.load(join(dir, 'packs'), this.log);
    await convertLegacyChunks({
      dir,
      fs: this.fs,
      index: this.s.index,
      packs: this.packs,
      log: this.log,
      converted: async () => {
        if (format !== STORE_FORMAT) await this.writeSmallFile(formatFile, Buffer.from(JSON.stringify({ format: STORE_FORMAT }) + '\n'), 'store', true);
      },
    });
  }

  // ---------------------------------------------------------------------------------------------
  // paths and small helpers

  private manifestPath(id: string): string {
    return join(this.dir, 'manifests', `${id}.json`);
  }

  /** @internal */ tmpPath(kind: string): string {
    return join(this.dir, 'tmp', `${process.pid}-${this.instance}-${++this.tmpSeq}.${kind}`);
  }

  /** @internal tmp, fsync, rename, fsync dir (atomic-write.ts); `replace`: the file may exist. */
  async writeSmallFile(path: string, data: Buffer, kind: string, replace = false): Promise<void> {
    if (!replace && (await exists(path))) throw new AlreadyExistsError(`${path} exists`);
    await writeAtomic(this.fs, this.tmpPath(kind), path, data);
  }

  /** The chunks in the store (tests, operators): sealed or being written. */
  chunkHashes(): string[] {
    return [...this.s.index.hashes()].sort();
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
   * @internal Makes sure the chunk is in the store, appending it to the open pack if it is not.
   * The caller has pinned `hash`. Returns the bytes written, 0 if the chunk was there (or another
   * writer put it there meanwhile). Throws raw I/O errors. Not durable until `makeDurable`.
   */
  async putChunk(hash: string, encode: () => Promise<Buffer>): Promise<number> {
    const { index, writing } = this.s;
    for (;;) {
      const other = writing.get(hash);
      if (other) {
        await other.catch(() => undefined); // its failure is its writer's; we look again
        if (index.has(hash)) return 0;
        continue;
      }
      if (index.has(hash)) return 0;
      // No await between the look-up and registering the write.
      const write = (async () => {
        const data = await encode();
        await this.packs.append(hash, data);
        return data.length;
      })();
      writing.set(hash, write);
      try {
        return await write;
      } finally {
        writing.delete(hash);
      }
    }
  }

  /**
   * @internal Seals the packs holding `hashes` that are not sealed yet and waits until each is
   * durable. A chunk whose pack could not be written is no longer in the index: StoreWriteError.
   */
  async makeDurable(hashes: Iterable<string>, what: string): Promise<void> {
    const packs = new Set<Pack>();
    for (const h of hashes) {
      const loc = this.s.index.get(h);
      if (!loc) throw new StoreWriteError(what, new Error(`chunk ${h} is no longer in the store (its pack could not be written)`));
      if (!loc.pack.sealed) packs.add(loc.pack);
    }
    await Promise.all([...packs].map((p) => this.packs.seal(p)));
  }

  /** @internal Writes a manifest atomically; a failure leaves no manifest behind. */
  async writeManifest(m: SnapshotManifest): Promise<void> {
    const path = this.manifestPath(m.id);
    if (await exists(path)) throw new AlreadyExistsError(`snapshot ${m.id} already exists in the store`);
    await writeAtomic(this.fs, this.tmpPath('manifest'), path, Buffer.from(JSON.stringify(m) + '\n'));
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

  private async manifestOrNone(id: string): Promise<SnapshotManifest | undefined> {
    try {
      return await this.manifest(id);
    } catch (err) {
      if (err instanceof NotFoundError) return undefined; // deleted meanwhile
      throw err;
    }
  }

  private async manifestIds(): Promise<string[]> {
    const names = await readdir(join(this.dir, 'manifests'));
    return names.filter((n) => n.endsWith('.json')).map((n) => n.slice(0, -5)).filter((id) => SNAPSHOT_ID_RE.test(id));
  }

  /** Snapshots in the store (of one job if given), oldest first. */
  async list(job?: string): Promise<SnapshotSummary[]> {
    const out: SnapshotSummary[] = [];
    for (const id of await this.manifestIds()) {
      const m = await this.manifestOrNone(id);
      if (!m || (job !== undefined && m.job !== job)) continue;
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

  private get reader(): reading.ReadContext {
    return { s: this.s, readConcurrency: this.readConcurrency, manifest: (id) => this.manifest(id), fileOf: (id, n) => this.fileOf(id, n), hold: (h) => this.hold(h) };
  }

  /** A file of a snapshot as a stream, every chunk verified (reading.ts). */
  openFile(snapshotId: string, name: string): Readable {
    return reading.openFile(this.reader, snapshotId, name);
  }

  /** Restores one file to `destPath`, every chunk verified; a failed restore leaves nothing there. */
  restoreFile(snapshotId: string, name: string, destPath: string): Promise<{ bytes: number }> {
    return reading.restoreFile(this.reader, snapshotId, name, destPath);
  }

  /** Reads every chunk of a snapshot and reports those missing or corrupt. */
  verify(snapshotId: string): Promise<reading.VerifyResult> {
    return reading.verify(this.reader, snapshotId);
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
   * Removes packs of chunks no manifest references (and that nobody pins), repacks mostly unused
   * ones, and removes temp files of dead processes (gc.ts). Safe while snapshots are written. A
   * manifest that cannot be read stops the collection before anything is removed.
   */
  async collectGarbage(opts: GcOptions = {}): Promise<GcResult> {
    while (this.s.gcRunning) await this.s.gcRunning.catch(() => undefined); // its failure was its caller's
    const run = runGc(
      {
        s: this.s,
        packs: this.packs,
        fs: this.fs,
        manifestIds: () => this.manifestIds(),
        manifestOrNone: (id) => this.manifestOrNone(id),
        pendingImports: () => this.pendingImports(),
        pendingImport: (id) => this.pendingImport(id),
        cleanTemp: () => this.cleanTemp(),
      },
      opts.graceMs ?? DEFAULT_GC_GRACE_MS,
      opts.maxUnused ?? DEFAULT_MAX_UNUSED,
    );
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
   * gone). Calls while one is queued and not yet started share it: a burst of prunes costs one pass.
   */
  collectGarbageSoon(opts: GcOptions = {}): Promise<GcResult> {
    if (this.gcQueued) return this.gcQueued;
    const queued = (async () => {
      while (this.s.gcRunning) await this.s.gcRunning.catch(() => undefined);
      this.gcQueued = null; // from here on a new call queues the next pass
      return this.collectGarbage(opts);
    })();
    this.gcQueued = queued;
    return queued;
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
  // transfer between sites (imports.ts)

  private get importer(): imports.ImportContext {
    return {
      dir: this.dir,
      s: this.s,
      checkHash,
      checkId,
      manifest: (id) => this.manifest(id),
      pin: (h) => this.pin(h),
      unpin: (h, r) => this.unpin(h, r),
      putChunk: (h, e) => this.putChunk(h, e),
      makeDurable: (h, w) => this.makeDurable(h, w),
      writeManifest: (m) => this.writeManifest(m),
      writeSmallFile: (p, d, k) => this.writeSmallFile(p, d, k),
    };
  }

  /** Those of `hashes` (deduplicated, in order) that are not in the store. */
  async missingChunks(hashes: readonly string[]): Promise<string[]> {
    return imports.missingChunks(this.importer, hashes);
  }

  /**
   * A chunk's stored bytes (codec byte + payload), to send as they are; the receiver verifies.
   * To keep a snapshot's chunks from being collected during a long send, `hold()` them.
   */
  readChunkCompressed(hash: string): Promise<Buffer> {
    return imports.readChunkCompressed(this.importer, hash);
  }

  /**
   * Stores a chunk received from another store, after checking that it decodes to content whose
   * SHA-256 is `hash` (CorruptChunkError otherwise). Returns whether it was written (false: it was
   * already there). Until a manifest references it, only a pending import (`beginImport`) or
   * `hold()` keeps it from the collector.
   */
  writeChunkCompressed(hash: string, data: Uint8Array): Promise<boolean> {
    return imports.writeChunkCompressed(this.importer, hash, data);
  }

  /** `writeChunkCompressed` for a run of chunks (one received message), verified at once; returns the new ones. */
  writeChunksCompressed(chunks: ReadonlyArray<{ hash: string; data: Uint8Array }>): Promise<string[]> {
    return imports.writeChunksCompressed(this.importer, chunks);
  }

  /**
   * Starts receiving a snapshot from another store: records its manifest under imports/ (durably),
   * so the chunks that arrive are never collected, even across a restart, until `importManifest`
   * or `abandonImport`. Returns the chunks still missing (all of them the first time, fewer when
   * an interrupted transfer resumes; none if the snapshot is already here). Idempotent.
   */
  beginImport(raw: SnapshotManifest | unknown): Promise<string[]> {
    return imports.beginImport(this.importer, raw);
  }

  /** Snapshots whose import was begun and neither completed nor abandoned (e.g. before a restart). */
  pendingImports(): Promise<string[]> {
    return imports.pendingImports(this.importer);
  }

  /** The manifest of a pending import, or undefined. A damaged record is refused, like a manifest. */
  pendingImport(id: string): Promise<SnapshotManifest | undefined> {
    return imports.pendingImport(this.importer, id);
  }

  /** Gives up a pending import: its chunks that nothing else uses go at the next collection. */
  abandonImport(id: string): Promise<void> {
    return imports.abandonImport(this.importer, id);
  }

  /**
   * Adds a snapshot received from another store (completing `beginImport`, if one was made).
   * Refuses (IncompleteSnapshotError, listing them) if any of its chunks is not here. Importing the
   * same manifest again is a no-op.
   */
  importManifest(raw: SnapshotManifest | unknown): Promise<void> {
    return imports.importManifest(this.importer, raw);
  }
}
