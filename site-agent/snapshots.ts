// Coordinated snapshots of whole clusters into the site's store, restores from them, pruning, and
// the start-up recovery of a snapshot cut short by a crash (DESIGN.md "Snapshots"; the choices and
// their measurements are in docs/design-notes.md, "Snapshots: how a cluster is captured").
//
// The parts: snapshot-capture.ts (TakeSnapshot), snapshot-restore.ts (RestoreCluster),
// snapshot-recovery.ts (start-up), snapshot-format.ts (what a snapshot records, its errors),
// snapshot-part.ts (what they share); the XML reads and rewrites are in domain-xml.ts.
import { InvalidArgumentError } from '../src/shared/errors.js';
import { silentLogger } from '../src/shared/logger.js';
import type { ClusterSpec, ClusterStatus, Snapshot } from '../src/shared/proto.js';
import type { SnapshotManifest } from './snapshot-store/manifest.js';
import { SnapshotCapture, type TakeSnapshotInput } from './snapshot-capture.js';
import type { RecoveryReport } from './snapshot-format.js';
import type { ClusterSnapshotsOptions } from './snapshot-part.js';
import { SnapshotRecovery } from './snapshot-recovery.js';
import { SnapshotRestore } from './snapshot-restore.js';

export { SnapshotDamagedError, SnapshotFailedError, type CaptureMethod, type RecoveryReport, type SnapshotKind } from './snapshot-format.js';
export type { ClusterSnapshotsOptions, SnapshotClusters, SnapshotStoreApi } from './snapshot-part.js';
export type { TakeSnapshotInput } from './snapshot-capture.js';
export { fileDisks } from './domain-xml.js';

/** The site's snapshots API: capture (TakeSnapshot), restore (RestoreCluster), prune, start-up recovery. */
export class ClusterSnapshots {
  private readonly capture: SnapshotCapture;
  private readonly restorer: SnapshotRestore;
  private readonly recovery: SnapshotRecovery;

  constructor(private readonly options: ClusterSnapshotsOptions) {
    this.capture = new SnapshotCapture(options);
    this.restorer = new SnapshotRestore(options);
    this.recovery = new SnapshotRecovery(options);
  }

  get workDir(): string {
    return this.capture.workDir;
  }

  /**
   * Takes a coordinated snapshot of the job's cluster and returns it once its manifest is durable.
   * Idempotent on `snapshotId` (see snapshot-capture.ts).
   */
  take(input: TakeSnapshotInput): Promise<Snapshot> {
    return this.capture.take(input);
  }

  /** Recreates the cluster of `spec` from a snapshot in this store (see snapshot-restore.ts). */
  restore(spec: ClusterSpec, snapshotId: string): Promise<ClusterStatus> {
    return this.restorer.restore(spec, snapshotId);
  }

  /** Before adoption and registration: VMs of captures cut short by a crash run again. */
  recover(): Promise<RecoveryReport[]> {
    return this.recovery.recover();
  }

  /** Abandons the pending imports (transfers in) of the job's snapshots; returns their ids. */
  private async abandonImportsOf(jobId: string): Promise<string[]> {
    const { store } = this.options;
    const out: string[] = [];
    for (const id of await store.pendingImports()) {
      const m = await store.pendingImport(id);
      if (m?.job !== jobId) continue;
      await store.abandonImport(id);
      out.push(id);
    }
    return out;
  }

  /** The `snapshot` object of the API (DESIGN.md) for a manifest of this store. */
  toSnapshot(m: SnapshotManifest): Snapshot {
    return this.capture.toSnapshot(m);
  }

  /** Keeps the job's last `keep` snapshots, deletes the others, then collects unused chunks. */
  async prune(jobId: string, keep: number): Promise<string[]> {
    if (!Number.isInteger(keep) || keep < 0) throw new InvalidArgumentError('keep', `a whole number ≥ 0, got ${keep}`);
    // Under the job's lock: never racing a capture or a restore of the same job.
    const deleted = await this.options.clusters.withJobLock(jobId, async () => {
      const gone = await this.options.store.retain(jobId, keep);
      // keep 0: the job ended; snapshots of it still arriving from another site go too (a cancel
      // mid-transfer must not leave a partial copy behind)
      if (keep === 0) gone.push(...(await this.abandonImportsOf(jobId)));
      return gone;
    });
    const log = (this.options.logger ?? silentLogger).child({ site: this.options.clusters.site, job: jobId });
    log.info({ keep, deleted }, 'snapshots pruned');
    // The chunk scan grows with the store: it runs in the background, not on the prune's path.
    void this.options.store.collectGarbageSoon().then(
      (gc) => log.info({ removedChunks: gc.removedChunks, removedBytes: gc.removedBytes }, 'chunks collected after prune'),
      (err: unknown) => log.error({ err }, 'chunk collection after prune failed; the next prune retries'),
    );
    return deleted;
  }
}
