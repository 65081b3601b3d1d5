// The coordinator's durable state. Under the data dir:
//   state.json    — lowdb snapshot of the hot set (live jobs, sites, leases, snapshot catalog)
//   archive.json  — lowdb snapshot of ended jobs
//   journal.<gen> — append-only journal replayed on top of both (./journal.ts)
// Callers mutate the in-memory data, then `await commit()`. Writes are tracked (./tracked.ts), so
// a commit appends one journal record with only the jobs, sites, snapshots and leases that
// changed; every caller waiting at the same time shares that record and its fdatasync, and a
// commit resolves only once a record holding its mutations is durable (`kill -9` loses nothing
// acknowledged). When the journal grows past a threshold it is compacted in the background: a new
// generation is opened, both snapshots are rewritten (atomically: temp file, fsync, rename, fsync
// the directory) naming it, then the older generations are deleted. A crash at any point leaves
// snapshots plus every generation they name, and replaying records is idempotent.
import { mkdir, open, readFile, rename, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Low, type Adapter } from 'lowdb';
import type { z } from 'zod';
import type { Logger } from '../shared/logger.js';
import type { ClusterLease } from './address-allocator.js';
import { encodeRecord, journalGenerations, JournalWriter, readJournal, removeJournal, StateFileError, journalFile } from './journal.js';
import { archiveDataSchema, hotDataSchema, type JournalRecord } from './state-schema.js';
import type { ArchiveData, HotData, JobRecord, StateMeta } from './state-types.js';
import { parseJsonAs } from '../shared/json.js';
import { errorMessage } from '../shared/errors.js';
import { trackRecord, type ChangeSink, type RootKind } from './tracked.js';

export type { ArchiveData, HotData, JobRecord, MoveState, PendingOp, Placement, SiteRecord, StateMeta } from './state-types.js';
export { StateFileError } from './journal.js';

/** lowdb adapter that reads a snapshot file and validates it against its schema. */
export class ValidatedJsonFile<T> implements Adapter<T> {
  constructor(
    private readonly file: string,
    private readonly schema: z.ZodType<T>,
  ) {}

  async read(): Promise<T | null> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    const checked = parseJsonAs(this.schema, text, 'the whole file');
    if (!checked.ok) {
      throw new StateFileError(this.file, checked.problem.startsWith('not valid JSON') ? checked.problem : `not a valid coordinator state (${checked.problem})`);
    }
    return checked.data;
  }

  async write(data: T): Promise<void> {
    await writeAtomically(this.file, [JSON.stringify(data)]);
  }
}

/** Writes `parts` to `file` through a temp file, fsynced, renamed into place, directory fsynced. */
export async function writeAtomically(file: string, parts: Iterable<string> | AsyncIterable<string>): Promise<number> {
  const tmp = `${file}.tmp`;
  const fh = await open(tmp, 'w');
  let bytes = 0;
  try {
    let buffered: string[] = [];
    let size = 0;
    const drain = async (): Promise<void> => {
      const buf = Buffer.from(buffered.join(''), 'utf8');
      buffered = [];
      size = 0;
      await fh.write(buf);
      bytes += buf.length;
    };
    for await (const part of parts) {
      buffered.push(part);
      size += part.length;
      if (size >= 256 << 10) await drain();
    }
    await drain();
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, file);
  await syncDir(dirname(file));
  return bytes;
}

async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
  reject: (err: unknown) => void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const yieldToLoop = (): Promise<void> => new Promise((r) => setImmediate(r));

const leaseKey = (l: Pick<ClusterLease, 'site' | 'job'>): string => `${l.site}\0${l.job}`;

export interface StoreOptions {
  /** how long a commit may wait for others to share its record */
  commitDelayMs?: number;
  /** compact once the journal holds this many bytes (default: 4 MiB, or the snapshots' size if larger) */
  compactAfterBytes?: number;
  log?: Logger;
}

/** What one compaction wrote (for logs, tests and the bench). */
export interface CompactionStats {
  generation: number;
  bytes: number;
  ms: number;
}

export class Store implements ChangeSink {
  private readonly dirty: Record<RootKind, Set<string>> = { jobs: new Set(), sites: new Set(), snapshots: new Set(), archive: new Set() };
  private leasesDirty = false;
  private metaDirty = false;
  private views!: { jobs: Record<string, JobRecord>; sites: HotData['sites']; snapshots: HotData['snapshots']; archive: Record<string, JobRecord> };
  private readonly hotView: HotData;
  private next: Deferred | null = null;
  private flushing = false;
  private lock: Promise<void> = Promise.resolve();
  private compacting: Promise<CompactionStats> | null = null;
  private lastSnapshotBytes = 0;
  private closed = false;
  private seq: number;
  /** journal records written (one per group commit) */
  writes = 0;
  /** bytes appended to the journal by this process */
  journalBytes = 0;
  compactions = 0;
  /** the data dir held a state (snapshots or journal records) when it was opened */
  hadState = false;

  private constructor(
    private readonly dir: string,
    private hot: HotData,
    private readonly archive: ArchiveData,
    /** the leases as of the last durable record (to journal only those that changed) */
    private readonly leaseMap: Map<string, ClusterLease>,
    private writer: JournalWriter,
    seq: number,
    private readonly options: StoreOptions,
  ) {
    this.seq = seq;
    this.makeViews();
    this.hotView = new Proxy(hot, {
      get: (t, p, r) => {
        if (p === 'jobs' || p === 'sites' || p === 'snapshots') return this.views[p];
        return Reflect.get(t, p, r) as unknown;
      },
      set: (t, p, v) => {
        if (p === 'leases') this.leasesDirty = true;
        else if (p === 'jobs' || p === 'sites' || p === 'snapshots') {
          // the whole record replaced: every key of the old and the new one changed
          for (const k of Object.keys(t[p])) this.dirty[p].add(k);
          for (const k of Object.keys(v as object)) this.dirty[p].add(k);
          const ok = Reflect.set(t, p, v);
          this.makeViews();
          return ok;
        }
        return Reflect.set(t, p, v);
      },
    });
  }

  private makeViews(): void {
    this.views = {
      jobs: trackRecord(this.hot.jobs, 'jobs', this),
      sites: trackRecord(this.hot.sites, 'sites', this),
      snapshots: trackRecord(this.hot.snapshots, 'snapshots', this),
      archive: trackRecord(this.archive.jobs, 'archive', this),
    };
  }

  touch(kind: RootKind, key: string): void {
    this.dirty[kind].add(key);
  }

  static async open(dataDir: string, options: StoreOptions = {}): Promise<Store> {
    await mkdir(dataDir, { recursive: true });
    const hotFile = join(dataDir, 'state.json');
    const archiveFile = join(dataDir, 'archive.json');
    const hotDb = new Low<HotData>(new ValidatedJsonFile<HotData>(hotFile, hotDataSchema as z.ZodType<HotData>), emptyHot());
    const archiveDb = new Low<ArchiveData>(new ValidatedJsonFile<ArchiveData>(archiveFile, archiveDataSchema as z.ZodType<ArchiveData>), { version: 1, jobs: {} });
    await hotDb.read();
    await archiveDb.read();
    const hot = hotDb.data;
    const archive = archiveDb.data;
    const gens = await journalGenerations(dataDir);
    const hotExists = hot.journal !== undefined || (await exists(hotFile));
    // the generation both snapshots are complete up to (archive.json is written first)
    const start = Math.min(hot.journal ?? 0, archive.journal ?? 0);
    if (!hotExists && (gens[0] ?? 0) > 0) {
      throw new StateFileError(hotFile, `missing, while the journal starts at generation ${gens[0]} (the records before it are only in the snapshot)`);
    }
    const replay = gens.filter((g) => g >= start);
    replay.forEach((g, i) => {
      if (g !== start + i) throw new StateFileError(journalFile(dataDir, start + i), `missing: the snapshots need every journal generation from ${start} on`);
    });
    const leaseMap = new Map(hot.leases.map((l) => [leaseKey(l), l] as const));
    let seq = 0;
    let validLength = 0;
    let records = 0;
    for (const g of replay) {
      const file = journalFile(dataDir, g);
      const read = await readJournal(file);
      if (read.torn) options.log?.warn({ file, offset: read.validLength }, 'journal: a torn last record (crash during its append, never acknowledged) is dropped');
      for (const r of read.records) {
        applyRecord(hot, archive, leaseMap, r);
        seq = Math.max(seq, r.seq);
      }
      records += read.records.length;
      validLength = read.validLength;
    }
    hot.leases = [...leaseMap.values()];
    // A crash between the archive write and the hot write of an older layout left a job in both: the archived copy wins.
    for (const id of Object.keys(archive.jobs)) delete hot.jobs[id];
    const gen = replay.at(-1) ?? start;
    const writer = await JournalWriter.open(dataDir, gen, replay.length ? validLength : 0, options.log);
    if (!replay.length) await syncDir(dataDir);
    // generations older than both snapshots: a compaction stopped before deleting them
    for (const g of gens.filter((x) => x < start)) await removeJournal(dataDir, g);
    if (records) options.log?.info({ records, generations: replay.length }, 'journal replayed');
    const store = new Store(dataDir, hot, archive, leaseMap, writer, seq, options);
    store.hadState = hotExists || (await exists(archiveFile)) || records > 0;
    store.lastSnapshotBytes = (await sizeOf(hotFile)) + (await sizeOf(archiveFile));
    return store;
  }

  get data(): HotData {
    return this.hotView;
  }

  get archived(): Readonly<Record<string, JobRecord>> {
    return this.views.archive;
  }

  job(id: string): JobRecord | undefined {
    return this.views.jobs[id] ?? this.views.archive[id];
  }

  liveJobs(): JobRecord[] {
    return Object.values(this.views.jobs);
  }

  archivedJobs(): JobRecord[] {
    return Object.values(this.views.archive);
  }

  /** Whether a job id is a live or archived job (own keys only: `__proto__` is no job). */
  knows(id: string): boolean {
    return Object.hasOwn(this.hot.jobs, id) || Object.hasOwn(this.archive.jobs, id);
  }

  /** The grid id and epoch, as last committed (./identity.ts). */
  get meta(): StateMeta | undefined {
    return this.hot.meta;
  }

  setMeta(meta: StateMeta): void {
    this.hot.meta = { ...meta };
    this.metaDirty = true;
  }

  /** Durably records every mutation made so far. */
  commit(): Promise<void> {
    if (!this.next) this.next = deferred();
    const waiting = this.next.promise;
    if (!this.flushing) void this.flush();
    return waiting;
  }

  /** Moves an ended job out of the hot set, in one record (never in both, never in neither). */
  async archiveJob(id: string): Promise<void> {
    const job = this.hot.jobs[id];
    if (!job) return;
    this.views.archive[id] = job;
    delete this.views.jobs[id];
    await this.commit();
  }

  /** Ended jobs are deleted for good (retention). */
  async forgetArchived(ids: readonly string[]): Promise<void> {
    for (const id of ids) delete this.views.archive[id];
    if (ids.length) await this.commit();
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(fn);
    this.lock = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      while (this.next) {
        if (this.options.commitDelayMs) await new Promise((r) => setTimeout(r, this.options.commitDelayMs));
        const batch = this.next;
        this.next = null;
        try {
          await this.exclusive(() => this.writeChanges());
          batch.resolve();
        } catch (err) {
          batch.reject(err);
        }
      }
    } finally {
      this.flushing = false;
    }
    if (!this.compacting && !this.closed && this.writer.size > this.compactThreshold()) {
      void this.compact().catch((err: unknown) => this.options.log?.error({ err: (err as Error).message }, 'journal compaction failed; the journal keeps growing until one succeeds'));
    }
  }

  private compactThreshold(): number {
    return this.options.compactAfterBytes ?? Math.max(4 << 20, this.lastSnapshotBytes);
  }

  /** One record of everything changed since the last one, appended and fdatasync'ed. */
  private async writeChanges(): Promise<void> {
    if (this.closed) throw new StateFileError(this.dir, 'store closed', 'restart the coordinator');
    const taken = { jobs: this.dirty.jobs, sites: this.dirty.sites, snapshots: this.dirty.snapshots, archive: this.dirty.archive };
    this.dirty.jobs = new Set();
    this.dirty.sites = new Set();
    this.dirty.snapshots = new Set();
    this.dirty.archive = new Set();
    const leasesTaken = this.leasesDirty;
    const metaTaken = this.metaDirty;
    this.leasesDirty = false;
    this.metaDirty = false;
    const record: JournalRecord = { seq: this.seq + 1 };
    const section = <T>(keys: Set<string>, from: Record<string, T>): { put?: Record<string, T>; del?: string[] } | undefined => {
      if (keys.size === 0) return undefined;
      const put: Record<string, T> = {};
      const del: string[] = [];
      for (const k of keys) {
        if (Object.hasOwn(from, k)) put[k] = from[k] as T;
        else del.push(k);
      }
      return { ...(Object.keys(put).length ? { put } : {}), ...(del.length ? { del } : {}) };
    };
    const jobs = section(taken.jobs, this.hot.jobs);
    const sites = section(taken.sites, this.hot.sites);
    const snapshots = section(taken.snapshots, this.hot.snapshots);
    const archive = section(taken.archive, this.archive.jobs);
    if (jobs) record.jobs = jobs;
    if (sites) record.sites = sites;
    if (snapshots) record.snapshots = snapshots;
    if (archive) record.archive = archive;
    let leaseUpdate: { put: ClusterLease[]; del: Array<[string, string]>; now: Map<string, ClusterLease> } | undefined;
    if (leasesTaken) {
      // leases are immutable objects (a change is a new object): compare by identity, and by value
      // where the object is new but may say the same (the allocator's own copies after a restart)
      const now = new Map(this.hot.leases.map((l) => [leaseKey(l), l] as const));
      const put: ClusterLease[] = [];
      const del: Array<[string, string]> = [];
      for (const [k, l] of now) {
        const before = this.leaseMap.get(k);
        if (before !== l && (!before || JSON.stringify(before) !== JSON.stringify(l))) put.push(l);
      }
      for (const [k, l] of this.leaseMap) if (!now.has(k)) del.push([l.site, l.job]);
      if (put.length || del.length) {
        record.leases = { ...(put.length ? { put } : {}), ...(del.length ? { del } : {}) };
        leaseUpdate = { put, del, now };
      }
    }
    if (metaTaken && this.hot.meta) record.meta = this.hot.meta;
    if (Object.keys(record).length === 1) return; // nothing changed: earlier records hold it all
    try {
      const buf = encodeRecord(record);
      await this.writer.append(buf);
      this.journalBytes += buf.length;
    } catch (err) {
      // not durable: these changes go into the next record
      for (const kind of Object.keys(taken) as RootKind[]) for (const k of taken[kind]) this.dirty[kind].add(k);
      if (leasesTaken) this.leasesDirty = true;
      if (metaTaken) this.metaDirty = true;
      throw err;
    }
    this.seq = record.seq;
    this.writes++;
    if (leaseUpdate) {
      this.leaseMap.clear();
      for (const [k, l] of leaseUpdate.now) this.leaseMap.set(k, l);
    }
  }

  /**
   * Rewrites both snapshots and drops the journal generations they include. Serialising yields to
   * the event loop every few milliseconds: the snapshot is fuzzy (entries as of when each was
   * written), which is sound because every change after the rotation is in the new generation
   * and replaying it over any of those states gives the same result.
   */
  compact(): Promise<CompactionStats> {
    if (this.compacting) return this.compacting;
    const run = (async (): Promise<CompactionStats> => {
      const t0 = performance.now();
      const gen = await this.exclusive(async () => {
        const next = this.writer.gen + 1;
        const writer = await JournalWriter.open(this.dir, next, 0, this.options.log);
        await syncDir(this.dir);
        const old = this.writer;
        this.writer = writer;
        await old.close();
        return next;
      });
      const archiveBytes = await writeAtomically(join(this.dir, 'archive.json'), this.serialize(gen, 'archive'));
      const hotBytes = await writeAtomically(join(this.dir, 'state.json'), this.serialize(gen, 'hot'));
      for (const g of await journalGenerations(this.dir)) if (g < gen) await removeJournal(this.dir, g);
      this.lastSnapshotBytes = archiveBytes + hotBytes;
      this.compactions++;
      const stats = { generation: gen, bytes: archiveBytes + hotBytes, ms: performance.now() - t0 };
      this.options.log?.info(stats, 'journal compacted into the snapshots');
      return stats;
    })();
    this.compacting = run;
    // clears the slot; the failure itself is the caller's (compact() returns `run`)
    const clear = (): void => {
      if (this.compacting === run) this.compacting = null;
    };
    run.then(clear, clear);
    return run;
  }

  /** The JSON text of a snapshot, produced in slices between which the event loop runs. */
  private async *serialize(gen: number, which: 'hot' | 'archive'): AsyncGenerator<string> {
    async function* entries(rec: Record<string, unknown>): AsyncGenerator<string> {
      yield '{';
      let first = true;
      let sliceStart = performance.now();
      for (const k of Object.keys(rec)) {
        const v = rec[k];
        if (v === undefined) continue; // deleted meanwhile
        yield `${first ? '' : ','}${JSON.stringify(k)}:${JSON.stringify(v)}`;
        first = false;
        if (performance.now() - sliceStart > 4) {
          await yieldToLoop();
          sliceStart = performance.now();
        }
      }
      yield '}';
    }
    if (which === 'archive') {
      yield `{"version":1,"journal":${gen},"jobs":`;
      yield* entries(this.archive.jobs);
      yield '}';
      return;
    }
    const h = this.hot;
    yield `{"version":1,"journal":${gen}${h.meta ? `,"meta":${JSON.stringify(h.meta)}` : ''},"sites":${JSON.stringify(h.sites)},"leases":${JSON.stringify(h.leases)},"snapshots":`;
    yield* entries(h.snapshots);
    yield ',"jobs":';
    yield* entries(h.jobs);
    yield '}';
  }

  /** Waits for writes under way and closes the journal (no commit after this). */
  async close(): Promise<void> {
    if (this.closed) return;
    // a compaction that fails leaves the journal whole: closing goes on, saying so
    await this.compacting?.catch((err: unknown) => this.options.log?.warn({ err: errorMessage(err) }, 'closing: the last compaction failed; the journal still holds every change'));
    await this.exclusive(async () => {
      this.closed = true;
      await this.writer.close();
    });
  }

  /** The journal generation records are appended to. */
  get generation(): number {
    return this.writer.gen;
  }

  get journalSize(): number {
    return this.writer.size;
  }
}

function emptyHot(): HotData {
  return { version: 1, jobs: {}, sites: {}, leases: [], snapshots: {} };
}

async function sizeOf(file: string): Promise<number> {
  try {
    return (await stat(file)).size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw err;
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

/** Applies one journal record (idempotent: replaying it again gives the same state). */
function applyRecord(hot: HotData, archive: ArchiveData, leases: Map<string, ClusterLease>, r: JournalRecord): void {
  const apply = <T>(target: Record<string, T>, c: { put?: Record<string, T> | undefined; del?: string[] | undefined } | undefined): void => {
    if (!c) return;
    for (const [k, v] of Object.entries(c.put ?? {})) target[k] = v;
    for (const k of c.del ?? []) delete target[k];
  };
  apply(hot.jobs, r.jobs);
  apply(hot.sites, r.sites);
  apply(hot.snapshots, r.snapshots);
  apply(archive.jobs, r.archive);
  for (const l of r.leases?.put ?? []) leases.set(leaseKey(l), l);
  for (const [site, job] of r.leases?.del ?? []) leases.delete(leaseKey({ site, job }));
  if (r.meta) hot.meta = r.meta;
}
