// Ending a job's presence at a site: its cluster destroyed, its leases freed, its snapshots
// deleted, the record archived.
import { errorMessage } from '../shared/errors.js';
import type { DestroyOptions } from './agents.js';
import type { JobRecord } from './store.js';
import type { CoordinatorContext } from './context.js';

export class Teardown {
  constructor(private readonly ctx: Pick<CoordinatorContext, 'store' | 'allocator' | 'agents' | 'config' | 'log' | 'grid' | 'catalog' | 'placement' | 'clock'>) {}

  /**
   * After a job reached an end state: its addresses go to `releasing`, its VMs are destroyed at the
   * site, then the leases are freed. If the agent cannot be reached, the leases stay `releasing`
   * until a heartbeat from the site shows the cluster gone (the agent fences what is not placed).
   */
  async endJob(job: JobRecord, site: string): Promise<void> {
    for (const vm of job.vms) if (vm.state !== 'SHUTOFF') vm.state = 'STOPPING';
    if (site) this.ctx.allocator.markReleasing(site, job.id);
    await this.ctx.grid.commit();
    this.ctx.placement.schedule();
    if (site) {
      const keep = this.ctx.config.jobs.keepEndedFor;
      await this.releaseAt(
        job.id,
        site,
        `${job.id}/destroy`,
        () => {
          for (const vm of job.vms) vm.state = 'DESTROYED';
          // the site kept its output disks as long as the job record is kept (`brine output`)
          if ((job.outputDiskMiB ?? 0) > 0) job.outputKeptUntil = new Date(this.ctx.clock.now().getTime() + keep).toISOString();
        },
        { keepConsolesForMs: keep, keepOutputForMs: (job.outputDiskMiB ?? 0) > 0 ? keep : 0 },
      );
    }
    await this.ctx.catalog.dropAll(job);
    if (!this.ctx.allocator.leases(site).some((l) => l.job === job.id)) await this.ctx.store.archiveJob(job.id);
  }

  /**
   * Destroys a job's cluster at `site` (idempotent: `operationId`) and frees its leases there;
   * on failure they stay `releasing` until the site confirms. `onDestroyed` runs before the commit.
   */
  async releaseAt(jobId: string, site: string, operationId: string, onDestroyed?: () => void, opts: DestroyOptions = {}): Promise<void> {
    const record = this.ctx.store.data.sites[site];
    if (!record) return;
    try {
      await this.ctx.agents.destroy(record.advertise, operationId, jobId, opts);
      this.ctx.allocator.release(site, jobId);
      onDestroyed?.();
      await this.ctx.grid.commit();
      this.ctx.placement.schedule(); // its subnet and MACs are free now
    } catch (err) {
      this.ctx.log.warn({ job: jobId, site, err: errorMessage(err) }, 'destroy failed; leases stay releasing until the site confirms');
    }
  }
}
