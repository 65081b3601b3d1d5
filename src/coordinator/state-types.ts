// The shapes the coordinator persists (state.json, archive.json, journal records). Their zod
// schemas are in ./state-schema.ts.
import type { SeedRecord } from './user-data.js';
import type { Job, NodeSpec, Snapshot } from '../shared/proto.js';
import type { GuestNeed } from './scheduler.js';
import type { HistoryEntry, JobStateName } from './job-state.js';
import type { ClusterLease } from './address-allocator.js';

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
export interface JobRecord extends Omit<Job, 'state' | 'history' | 'userDataBytes' | 'meta' | 'egress' | 'outputDiskMiB' | 'outputKeptUntil'>, SeedRecord {
  state: JobStateName;
  /** each VM's output disk in MiB (`submit --output-disk`); absent: none */
  outputDiskMiB?: number | undefined;
  /** set when the job ended and its site kept the output disks: until when (RFC 3339) */
  outputKeptUntil?: string | undefined;
  /** the cluster's network is NATed outside (`submit --egress`); absent (older records): isolated */
  egress?: boolean | undefined;
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
  /** its config allows NAT egress (network.egress: nat); absent (older records): no */
  egress?: boolean | undefined;
  /** the largest output disk per VM it allows, MiB (outputDisk.max); absent (older records): 0 */
  maxOutputDiskMiB?: number | undefined;
}

/** The grid's identity and this coordinator's generation (./identity.ts). */
export interface StateMeta {
  gridId: string;
  epoch: number;
}

export interface HotData {
  version: 1;
  /** the journal generation replayed on top of this snapshot */
  journal?: number | undefined;
  meta?: StateMeta | undefined;
  jobs: Record<string, JobRecord>;
  sites: Record<string, SiteRecord>;
  leases: ClusterLease[];
  /** the snapshot catalog: a snapshot is recorded only once it is complete in a site's store */
  snapshots: Record<string, Snapshot>;
}

export interface ArchiveData {
  version: 1;
  journal?: number | undefined;
  jobs: Record<string, JobRecord>;
}
