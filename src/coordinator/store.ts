// The coordinator's durable state, kept in memory and made durable by a backend
// (./state-backend.ts): files under the data dir by default (./file-backend.ts), or etcd
// (./etcd-backend.ts). Callers mutate the in-memory data, then `await commit()`. Writes are
// tracked (./tracked.ts), so a commit appends one journal record with only the jobs, sites,
// snapshots and leases that changed; every caller waiting at the same time shares that record
// and its sync, and a commit resolves only once a record holding its mutations is durable
// (`kill -9` loses nothing acknowledged). When the journal grows past a threshold it is compacted
// in the background: the backend cuts the journal, the snapshots are rewritten with everything up
// to the cut, then the records before it are dropped. Replaying records is idempotent, so a
// snapshot serialised while later records are appended is sound.
import type { Logger } from '../shared/logger.js';
import type { ClusterLease } from './address-allocator.js';
import { StateFileError } from './journal.js';
import type { JournalRecord } from './state-schema.js';
import type { ArchiveData, HotData, JobRecord, StateMeta } from './state-types.js';
import { errorMessage } from '../shared/errors.js';
import { trackRecord, type ChangeSink, type RootKind } from './tracked.js';
import { applyRecord, leaseKey, type LoadedState, type StateBackend } from './state-backend.js';
import { FileBackend } from './file-backend.js';

export type { ArchiveData, HotData, JobRecord, MoveState, PendingOp, Placement, SiteRecord, StateMeta } from './state-types.js';
export { StateFileError } from './journal.js';

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
    private hot: HotData,
    private readonly archive: ArchiveData,
    /** the leases as of the last durable record (to journal only those that changed) */
    private readonly leaseMap: Map<string, ClusterLease>,
    private readonly backend: StateBackend,
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

  /** Opens the embedded default: files under `dataDir` (./file-backend.ts). */
  static async open(dataDir: string, options: StoreOptions = {}): Promise<Store> {
    const { backend, loaded } = await FileBackend.open(dataDir, options.log);
    return Store.over(backend, loaded, options);
  }

  /** A store over an opened backend and what it loaded: the records are replayed on the snapshots. */
  static over(backend: StateBackend, loaded: LoadedState, options: StoreOptions = {}): Store {
    const { hot, archive } = loaded;
    const leaseMap = new Map(hot.leases.map((l) => [leaseKey(l), l] as const));
    let seq = 0;
    for (const r of loaded.records) {
      applyRecord(hot, archive, leaseMap, r);
      seq = Math.max(seq, r.seq);
    }
    hot.leases = [...leaseMap.values()];
    // A crash between the archive write and the hot write of an older layout left a job in both: the archived copy wins.
    for (const id of Object.keys(archive.jobs)) delete hot.jobs[id];
    const store = new Store(hot, archive, leaseMap, backend, seq, options);
    store.hadState = loaded.hadState;
    store.lastSnapshotBytes = loaded.snapshotBytes;
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
    if (!this.compacting && !this.closed && this.backend.size > this.compactThreshold()) {
      void this.compact().catch((err: unknown) => this.options.log?.error({ err: (err as Error).message }, 'journal compaction failed; the journal keeps growing until one succeeds'));
    }
  }

  private compactThreshold(): number {
    return this.options.compactAfterBytes ?? Math.max(4 << 20, this.lastSnapshotBytes);
  }

  /** One record of everything changed since the last one, appended and fdatasync'ed. */
  private async writeChanges(): Promise<void> {
    if (this.closed) throw new StateFileError('(closed store)', 'store closed', 'restart the coordinator');
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
      this.journalBytes += await this.backend.append(record);
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
      const gen = await this.exclusive(() => this.backend.cut());
      const bytes = await this.backend.writeSnapshots(gen, (which, cut) => this.serialize(cut, which));
      this.lastSnapshotBytes = bytes;
      this.compactions++;
      const stats = { generation: gen, bytes, ms: performance.now() - t0 };
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
      await this.backend.close();
    });
  }

  /** The journal generation records are appended to. */
  get generation(): number {
    return this.backend.generation;
  }

  get journalSize(): number {
    return this.backend.size;
  }
}
