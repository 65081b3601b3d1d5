// The coordinator's durable state, in lowdb. Two files under the data dir:
//   state.json   — the hot set: live jobs, sites, address leases (rewritten on every commit)
//   archive.json — ended jobs, moved out so the hot file stays small as the grid's history grows
// Writes are group-committed: callers mutate the in-memory data, then `await commit()`; every
// caller waiting at the same time shares one file write, and a commit resolves only once a write
// that includes its mutations is on disk (fsynced, then atomically renamed into place), so an
// acknowledged change survives `kill -9` and a crash never leaves a half-written file.
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Low, type Adapter } from 'lowdb';
import type { Job, NodeSpec, Snapshot } from '../shared/proto.js';
import type { GuestNeed } from './scheduler.js';
import { InternalError } from '../shared/errors.js';
import type { HistoryEntry, JobStateName } from './job-state.js';
import type { ClusterLease } from './address-allocator.js';
import type { SeedRecord } from './user-data.js';

/**
 * An operation on a job's cluster that was started and may not have finished (the coordinator may
 * have crashed meanwhile): it is re-issued with the same ids, which the agent treats idempotently.
 */
export interface PendingOp {
  kind: 'checkpoint' | 'suspend' | 'resume' | 'move';
  snapshotId: string;
  /** why it was started (user, periodic policy…) */
  reason: string;
  /** for kind `move`: where it goes and how far it got */
  move?: MoveState | undefined;
}

/** Where a job's cluster was placed: a site's subnet, gateway and one node/MAC/IP per VM. */
export interface Placement {
  site: string;
  subnet: string;
  gateway: string;
  vms: JobRecord['vms'];
}

/**
 * A move between sites, persisted at every step so that a coordinator restarted mid-move finishes
 * it (each step is idempotent at the agents, with the same operation ids) or rolls it back.
 * The job holds leases at both sites until the move ends: the destination's (reserved at the
 * start) and the origin's (released only once the cluster runs at the destination).
 */
export interface MoveState {
  from: Placement;
  to: Placement;
  /** the job ran at the start (so the move begins with a final snapshot at the origin) */
  wasRunning: boolean;
  /**
   * precopy: a checkpoint of the running job travelling to the destination first ·
   * snapshot: final snapshot at the origin · transfer: snapshot travelling to the destination ·
   * restore: cluster being restored at the destination (the job is placed there now) ·
   * rollback: something failed at the destination; undoing it and going back to the origin
   */
  phase: 'precopy' | 'snapshot' | 'transfer' | 'restore' | 'rollback';
  /** the pre-copy checkpoint's id (phase `precopy`) */
  precopySnapshotId?: string | undefined;
  /** a restore was asked of the destination (so something may exist there to destroy) */
  restoreTried?: boolean | undefined;
  /** why the rollback (phase `rollback`) */
  failure?: string | undefined;
}

/** A job as persisted: the wire `Job` plus bookkeeping the wire does not carry. */
export interface JobRecord extends Omit<Job, 'state' | 'history' | 'userDataBytes' | 'meta'>, SeedRecord {
  state: JobStateName;
  history: HistoryEntry[];
  deployAttempts: number;
  pendingOp?: PendingOp | undefined;
  /**
   * Set on a job preempted by a reclaim (or whose move failed after one): while SUSPENDED, each
   * placement pass resumes it wherever there is room (the same site or another). Holds why.
   */
  autoResume?: string | undefined;
  /**
   * false: the job follows the default interval of wherever it runs (its site's `snapshots.every`,
   * else the coordinator's `jobs.checkpointEvery`), kept current in `checkpointEvery` as it moves.
   * true or absent (records from before this field): `checkpointEvery` is the submitter's.
   */
  checkpointEveryGiven?: boolean | undefined;
  /**
   * The domain types and architectures its VMs were created with (from the nodes of its first
   * placement): a saved VM restores only under those, so resumes and moves go to nodes that run them.
   */
  needs?: GuestNeed[] | undefined;
}

/** What a site's agent registered; kept across coordinator restarts (the site is DOWN until it re-registers). */
export interface SiteRecord {
  name: string;
  advertise: string;
  nodes: NodeSpec[];
  images: string[];
  subnetPool: string;
  macRange: string;
  instance: string;
  defaultCheckpointEvery: string;
  /** nodes taken back by the site's batch scheduler */
  reclaimedNodes: string[];
  /** snapshots kept per job at this site */
  snapshotsKeep: number;
  /** other sites each checkpoint taken here is copied to */
  snapshotsReplicas?: number | undefined;
}

export interface HotData {
  version: 1;
  jobs: Record<string, JobRecord>;
  sites: Record<string, SiteRecord>;
  leases: ClusterLease[];
  /** the snapshot catalog: a snapshot is recorded only once it is complete in a site's store */
  snapshots: Record<string, Snapshot>;
}

export interface ArchiveData {
  version: 1;
  jobs: Record<string, JobRecord>;
}

/** lowdb adapter that fsyncs the temp file and the directory around the rename. */
export class DurableJsonFile<T> implements Adapter<T> {
  constructor(private readonly file: string) {}

  async read(): Promise<T | null> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    try {
      return JSON.parse(text) as T;
    } catch (err) {
      throw new InternalError(`${this.file} is not valid JSON; restore it from a backup or move it away`, err);
    }
  }

  async write(data: T): Promise<void> {
    // Serialise synchronously, so the write holds exactly the mutations made before it started.
    const text = JSON.stringify(data);
    const tmp = `${this.file}.tmp`;
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(text);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, this.file);
    const dir = await open(dirname(this.file), 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
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

/** Group commit over one lowdb file. */
export class GroupCommit<T> {
  private next: Deferred | null = null;
  private flushing = false;
  writes = 0;

  constructor(
    readonly db: Low<T>,
    private readonly delayMs = 0,
  ) {}

  commit(): Promise<void> {
    if (!this.next) this.next = deferred();
    const waiting = this.next.promise;
    if (!this.flushing) void this.flush();
    return waiting;
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      while (this.next) {
        if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
        const batch = this.next;
        this.next = null;
        try {
          await this.db.write();
          this.writes++;
          batch.resolve();
        } catch (err) {
          batch.reject(err);
        }
      }
    } finally {
      this.flushing = false;
    }
  }
}

export class Store {
  private constructor(
    private readonly hot: GroupCommit<HotData>,
    private readonly archive: GroupCommit<ArchiveData>,
  ) {}

  static async open(dataDir: string, options: { commitDelayMs?: number } = {}): Promise<Store> {
    await mkdir(dataDir, { recursive: true });
    const hot = new Low<HotData>(new DurableJsonFile(join(dataDir, 'state.json')), { version: 1, jobs: {}, sites: {}, leases: [], snapshots: {} });
    const archive = new Low<ArchiveData>(new DurableJsonFile(join(dataDir, 'archive.json')), { version: 1, jobs: {} });
    await hot.read();
    await archive.read();
    hot.data.snapshots ??= {};
    // A crash between the archive write and the hot write of `archiveJob` leaves a job in both: the archived copy wins.
    for (const id of Object.keys(archive.data.jobs)) delete hot.data.jobs[id];
    return new Store(new GroupCommit(hot, options.commitDelayMs), new GroupCommit(archive, options.commitDelayMs));
  }

  get data(): HotData {
    return this.hot.db.data;
  }

  get archived(): Readonly<Record<string, JobRecord>> {
    return this.archive.db.data.jobs;
  }

  job(id: string): JobRecord | undefined {
    return this.hot.db.data.jobs[id] ?? this.archive.db.data.jobs[id];
  }

  /** Durably records every mutation made so far. */
  commit(): Promise<void> {
    return this.hot.commit();
  }

  /** Moves an ended job out of the hot file (archive written first, so it is never lost). */
  async archiveJob(id: string): Promise<void> {
    const job = this.hot.db.data.jobs[id];
    if (!job) return;
    this.archive.db.data.jobs[id] = job;
    await this.archive.commit();
    if (this.hot.db.data.jobs[id] === job) delete this.hot.db.data.jobs[id];
    await this.hot.commit();
  }

  get writes(): number {
    return this.hot.writes;
  }
}
