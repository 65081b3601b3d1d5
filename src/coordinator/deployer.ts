// A placed job's first start: the agent creates its cluster; a failure destroys what was made and
// either places the job again or, after `jobs.maxDeployAttempts`, fails it.
import { errorMessage } from '../shared/errors.js';
import type { JobRecord } from './store.js';
import type { CoordinatorContext } from './context.js';
import { clusterSpec } from './wire.js';

export class Deployer {
  constructor(
    private readonly ctx: Pick<CoordinatorContext, 'store' | 'allocator' | 'agents' | 'config' | 'log' | 'flags' | 'grid' | 'placement'>,
  ) {}

  async deploy(job: JobRecord): Promise<void> {
    const { flags, grid } = this.ctx;
    if (flags.inflight.has(job.id)) return;
    const site = this.ctx.store.data.sites[job.site];
    if (!site) return;
    flags.inflight.add(job.id);
    const attempt = job.deployAttempts;
    try {
      const status = await this.ctx.agents.deploy(site.advertise, `${job.id}/deploy/${attempt}`, clusterSpec(job));
      if (job.state !== 'DEPLOYING') return; // cancelled meanwhile: the cancel destroys it
      grid.applyStatus(job, status);
      this.ctx.allocator.activate(job.site, job.id);
      grid.setState(job, 'RUNNING', `running on ${job.site}: ${job.vms.map((v) => `${v.name}@${v.node}`).join(', ')}`);
      await grid.commit();
    } catch (err) {
      if (job.state !== 'DEPLOYING') return;
      const message = errorMessage(err);
      this.ctx.log.warn({ job: job.id, site: job.site, err: message }, 'deploy failed');
      job.deployAttempts++;
      const origin = job.site;
      try {
        await this.ctx.agents.destroy(site.advertise, `${job.id}/destroy/${attempt}`, job.id);
        this.ctx.allocator.release(origin, job.id);
      } catch (destroyErr) {
        this.ctx.log.warn({ job: job.id, site: origin, err: errorMessage(destroyErr) }, 'destroy after a failed deploy failed; leases stay releasing');
        this.ctx.allocator.markReleasing(origin, job.id);
      }
      const failed = job.deployAttempts >= this.ctx.config.jobs.maxDeployAttempts;
      if (failed) {
        grid.setState(job, 'FAILED', `deploy on ${origin} failed ${job.deployAttempts === 1 ? 'once' : `${job.deployAttempts} times`}; last: ${message}`);
      } else {
        job.site = '';
        job.subnet = '';
        job.gateway = '';
        job.vms = [];
        grid.setState(job, 'PENDING', `deploy on ${origin} failed (${message}); will be placed again`);
      }
      await grid.commit();
      if (failed) await this.ctx.store.archiveJob(job.id);
      this.ctx.placement.schedule();
    } finally {
      flags.inflight.delete(job.id);
      grid.settle(job.id);
    }
  }
}
