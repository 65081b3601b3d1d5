// The snapshot catalog: which complete snapshots of each job exist and at which sites, which copies
// are damaged, and the retention that deletes old ones at the agents.
import { errorMessage } from '../shared/errors.js';
import type { Snapshot } from '../shared/proto.js';
import type { JobRecord, PendingOp, SiteRecord } from './store.js';
import type { CoordinatorContext } from './context.js';

export class SnapshotCatalog {
  constructor(private readonly ctx: Pick<CoordinatorContext, 'store' | 'agents' | 'log' | 'events' | 'grid' | 'transfers'>) {}

  /** The catalog's snapshots of a job, oldest first. */
  of(jobId: string): Snapshot[] {
    return Object.values(this.ctx.store.data.snapshots)
      .filter((s) => s.job === jobId)
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  }

  get(id: string): Snapshot | undefined {
    return this.ctx.store.data.snapshots[id];
  }

  /** The job's newest snapshot with an intact copy somewhere (or at `site`). */
  latestIntact(jobId: string, site?: string): Snapshot | undefined {
    return this.of(jobId)
      .filter((s) => !s.damaged && (site === undefined || s.sites.includes(site)))
      .at(-1);
  }

  /** Records a snapshot the agent at `site` just made durable for `job` (the caller commits). */
  add(job: JobRecord, taken: Snapshot, id: string, site: string, kind: PendingOp['kind']): Snapshot {
    const rec: Snapshot = { ...taken, id, job: job.id, sites: [site], kind, damaged: false, damagedSites: [] };
    this.ctx.store.data.snapshots[id] = rec;
    job.lastSnapshot = id;
    this.ctx.events.publish({ type: 'snapshot.taken', job: job.id, site, state: job.state, reason: id });
    return rec;
  }

  /** `site` holds a complete copy of `id` now (the caller commits). */
  addCopy(id: string, site: string): void {
    const snap = this.ctx.store.data.snapshots[id];
    if (snap && !snap.sites.includes(site)) snap.sites.push(site);
  }

  /**
   * A read at `site` found snapshot `snapshotId` corrupt or incomplete there: that copy no longer
   * counts (never restored from, never sent); the snapshot is `damaged` once no intact copy is left.
   */
  markDamaged(snapshotId: string, site: string, err: unknown): void {
    const snap = this.ctx.store.data.snapshots[snapshotId];
    if (!snap) return;
    snap.sites = snap.sites.filter((s) => s !== site);
    snap.damagedSites = [...new Set([...(snap.damagedSites ?? []), site])];
    snap.damaged = snap.sites.length === 0;
    const left = snap.damaged ? 'no intact copy is left' : `intact copies: ${snap.sites.join(', ')}`;
    this.ctx.log.error({ job: snap.job, snapshot: snapshotId, site, err: errorMessage(err) }, `snapshot copy damaged; ${left}`);
    this.ctx.events.publish({ type: 'snapshot.damaged', job: snap.job, site, reason: `snapshot ${snapshotId} at ${site} is damaged (${errorMessage(err)}); ${left}` });
  }

  /** The agent at `site` deleted these snapshots: they leave the catalog once no site holds them. */
  forgetCopies(site: string, ids: readonly string[]): void {
    for (const id of ids) {
      const snap = this.ctx.store.data.snapshots[id];
      if (!snap) continue;
      snap.sites = snap.sites.filter((s) => s !== site);
      if (snap.sites.length === 0) delete this.ctx.store.data.snapshots[id];
    }
  }

  /** Applies the site's retention (`snapshots.keep`) and drops deleted snapshots from the catalog. */
  async prune(job: JobRecord, site: SiteRecord): Promise<void> {
    try {
      const deleted = await this.ctx.agents.pruneSnapshots(site.advertise, job.id, site.snapshotsKeep || 3);
      this.forgetCopies(site.name, deleted);
      if (deleted.length) await this.ctx.grid.commit();
    } catch (err) {
      this.ctx.log.warn({ job: job.id, site: site.name, err: errorMessage(err) }, 'snapshot retention failed');
    }
  }

  /**
   * An ended job's snapshots are deleted from every store holding them, and from every site a
   * transfer of them went to (a cancel mid-transfer leaves a partial copy there: issue 11 point 6).
   */
  async dropAll(job: JobRecord): Promise<void> {
    const snaps = this.of(job.id);
    const sites = new Set([...snaps.flatMap((s) => s.sites), ...this.ctx.transfers.destinations(job.id)]);
    this.ctx.transfers.forget(job.id);
    for (const siteName of sites) {
      const site = this.ctx.store.data.sites[siteName];
      if (!site) continue;
      try {
        this.forgetCopies(siteName, await this.ctx.agents.pruneSnapshots(site.advertise, job.id, 0));
      } catch (err) {
        this.ctx.log.warn({ job: job.id, site: siteName, err: errorMessage(err) }, 'could not delete the snapshots of an ended job');
      }
    }
    if (snaps.length) await this.ctx.grid.commit();
  }
}
