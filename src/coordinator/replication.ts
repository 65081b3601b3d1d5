// Background copies of each checkpoint to other sites (`snapshots.replicas`), so that a failover
// or a move finds the job's state already there.
import { errorMessage } from '../shared/errors.js';
import { isEnded } from './job-state.js';
import type { CoordinatorContext } from './context.js';

export class Replication {
  constructor(private readonly ctx: Pick<CoordinatorContext, 'store' | 'agents' | 'log' | 'events' | 'catalog' | 'registry' | 'transfers'>) {}

  /**
   * After a checkpoint: copies it in the background to `snapshots.replicas` other UP sites that
   * offer the job's image (sites already holding earlier snapshots of the job first: most chunks
   * are there already), then applies each replica site's retention.
   */
  async replicate(jobId: string, snapshotId: string): Promise<void> {
    const { store, catalog, registry } = this.ctx;
    const job = store.data.jobs[jobId];
    const snap = catalog.get(snapshotId);
    const home = job ? store.data.sites[job.site] : undefined;
    if (!job || !snap || !home) return;
    const want = (home.snapshotsReplicas ?? 0) - (snap.sites.length - 1);
    if (want <= 0) return;
    const holders = new Set(catalog.of(jobId).flatMap((s) => s.sites));
    const targets = Object.values(store.data.sites)
      .filter((s) => s.name !== home.name && !snap.sites.includes(s.name) && registry.isUp(s.name) && s.images.includes(job.image))
      .sort((a, b) => Number(holders.has(b.name)) - Number(holders.has(a.name)) || a.name.localeCompare(b.name))
      .slice(0, want);
    await Promise.all(
      targets.map(async (target) => {
        try {
          await this.ctx.transfers.transfer(jobId, snapshotId, target.name, false);
          this.ctx.events.publish({ type: 'snapshot.replicated', job: jobId, site: target.name, snapshot: snapshotId, reason: `${snapshotId} copied to ${target.name}` });
          const live = store.data.jobs[jobId];
          if (live && !isEnded(live.state)) await catalog.prune(live, target);
          else await this.ctx.agents.pruneSnapshots(target.advertise, jobId, 0); // the job ended meanwhile
        } catch (err) {
          this.ctx.log.warn({ job: jobId, snapshot: snapshotId, site: target.name, err: errorMessage(err) }, 'replication failed');
        }
      }),
    );
  }
}
