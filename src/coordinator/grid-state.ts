// The coordinator's state and the few changes every part makes to it: commit (leases included),
// a job's state transition (logged and published), an agent's view of a cluster copied in.
import type { ClusterStatus } from '../shared/proto.js';
import { formatDuration } from '../shared/units.js';
import { capacities } from './capacity.js';
import { transition, type JobStateName } from './job-state.js';
import type { SiteCapacity } from './scheduler.js';
import type { JobRecord } from './store.js';
import type { CoordinatorContext } from './context.js';

export class GridState {
  constructor(private readonly ctx: Pick<CoordinatorContext, 'store' | 'allocator' | 'config' | 'clock' | 'log' | 'events' | 'registry' | 'flags' | 'index'>) {}

  /** Writes the allocator's leases into the store and commits (group commit: see store.ts). */
  async commit(): Promise<void> {
    this.ctx.store.data.leases = this.ctx.allocator.exportLeases();
    await this.ctx.store.commit();
  }

  setState(job: JobRecord, to: JobStateName, reason: string): void {
    transition(job, to, reason, this.ctx.clock.now());
    this.ctx.index.update(job);
    // placed, moved or resumed elsewhere: the default interval is the new site's
    if (job.checkpointEveryGiven === false && job.site) job.checkpointEvery = this.defaultCheckpointEvery(job.site);
    this.ctx.log.info({ job: job.id, site: job.site || undefined, state: to, reason }, 'job state');
    this.ctx.events.publish({ type: 'job.state', job: job.id, site: job.site, state: to, reason });
  }

  /** The snapshot interval of a job that gave none: its site's `snapshots.every`, else the coordinator's. */
  defaultCheckpointEvery(site: string): string {
    return this.ctx.store.data.sites[site]?.defaultCheckpointEvery || formatDuration(this.ctx.config.jobs.checkpointEvery);
  }

  /** Copies an agent's view of a cluster into the job's VMs; says whether anything changed. */
  applyStatus(job: JobRecord, status: ClusterStatus): boolean {
    let changed = false;
    for (const vm of job.vms) {
      const seen = status.vms.find((v) => v.name === vm.name);
      const state = seen ? seen.state : 'MISSING';
      if (vm.state !== state) {
        vm.state = state;
        changed = true;
        this.ctx.events.publish({ type: 'vm.state', job: job.id, site: job.site, vm: vm.name, vmState: state, state: job.state, reason: `${vm.name} ${state}` });
      }
      if (seen && (vm.domain !== seen.domain || vm.console !== seen.console)) {
        vm.domain = seen.domain;
        vm.console = seen.console;
        changed = true;
      }
    }
    return changed;
  }

  /** An operation just changed the job's cluster: heartbeats built before it ended are ignored a while. */
  settle(jobId: string): void {
    this.ctx.flags.settle(jobId, this.ctx.clock.now().getTime() + 2 * this.heartbeatIntervalMs() + 500);
  }

  heartbeatIntervalMs(): number {
    return Math.max(100, Math.floor(this.ctx.config.heartbeatTimeout / 5));
  }

  /** Each site's nodes with what the live jobs hold of them now. */
  capacities(): Map<string, SiteCapacity> {
    const { index, registry } = this.ctx;
    return capacities(Object.values(this.ctx.store.data.sites), (site, node) => index.nodeUse(site, node), (s) => registry.isUp(s));
  }
}
