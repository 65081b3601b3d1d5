// Where the coordinator's state is made durable (./store.ts keeps it in memory and decides what a
// commit holds). Two backends: files under the data dir (./file-backend.ts, the embedded default)
// and etcd (./etcd-backend.ts, for several coordinators with one leader). Both keep the same two
// things: snapshots of the whole state, and the journal records appended after them; start-up
// replays the records on top of the snapshots.
import type { ClusterLease } from './address-allocator.js';
import type { JournalRecord } from './state-schema.js';
import type { ArchiveData, HotData } from './state-types.js';

/** What a backend found when it was opened. */
export interface LoadedState {
  hot: HotData;
  archive: ArchiveData;
  /** the records after the snapshots, in order */
  records: JournalRecord[];
  /** the backend held a state (snapshots or records) */
  hadState: boolean;
  /** bytes of the snapshots as loaded (sets when a compaction pays off) */
  snapshotBytes: number;
}

/** Produces the JSON text of one snapshot, naming the cut it starts from. */
export type Serializer = (which: 'hot' | 'archive', cut: number) => AsyncIterable<string>;

export interface StateBackend {
  /** bytes appended to the journal since the last cut */
  readonly size: number;
  /** the current cut (file backend: the journal generation; etcd: the last record compacted) */
  readonly generation: number;
  /** Appends one record durably and returns the bytes it took; rejects when it is not (nothing acknowledged then). */
  append(record: JournalRecord): Promise<number>;
  /** Called under the store's write lock: records appended from now on come after the cut. */
  cut(): Promise<number>;
  /** Writes snapshots that include everything up to `cut`, then drops the records they hold; returns the bytes written. */
  writeSnapshots(cut: number, serialize: Serializer): Promise<number>;
  close(): Promise<void>;
}

export function emptyHot(): HotData {
  return { version: 1, jobs: {}, sites: {}, leases: [], snapshots: {} };
}

export const leaseKey = (l: Pick<ClusterLease, 'site' | 'job'>): string => `${l.site}\0${l.job}`;

/** Applies one journal record (idempotent: replaying it again gives the same state). */
export function applyRecord(hot: HotData, archive: ArchiveData, leases: Map<string, ClusterLease>, r: JournalRecord): void {
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
