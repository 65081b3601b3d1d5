// An agent's view of its clusters against the coordinator's: `planReconcile` is the pure diff (what
// to do about each job at the site), `Reconciler` carries it out.
import { errorMessage } from '../shared/errors.js';
import type { ClusterStatus } from '../shared/proto.js';
import { isEnded } from './job-state.js';
import type { JobRecord } from './store.js';
import type { CoordinatorContext } from './context.js';

export type ReconcileAction =
  /** an operation a coordinator restart interrupted: re-issue it with the same ids */
  | { kind: 'rerun'; job: string }
  /** copy the agent's view of the VMs in */
  | { kind: 'status'; job: string; status: ClusterStatus }
  /** every VM shut down by itself: the job is COMPLETED */
  | { kind: 'complete'; job: string; status: ClusterStatus }
  /** the agent has no VMs of a RUNNING job (it restarted with a fresh hypervisor state) */
  | { kind: 'redeploy'; job: string }
  /** a deploy a coordinator restart interrupted: deploys are idempotent, so do it again */
  | { kind: 'deploy'; job: string }
  /** a `releasing` lease whose cluster the agent no longer has: free it */
  | { kind: 'release'; job: string };

export interface ReconcileInput {
  site: string;
  /** the coordinator's live jobs (any site) */
  jobs: Iterable<JobRecord>;
  reported: readonly ClusterStatus[];
  /** one cluster's report (`ReportStatus`), not the site's whole view */
  partial: boolean;
  /** job ids with a call to their agent in flight */
  inflight: ReadonlySet<string>;
  /** whether a job's cluster is settled (no operation changed it in the last heartbeats) */
  settled: (jobId: string) => boolean;
  /** jobs holding `releasing` leases at the site */
  releasing: readonly string[];
}

export function planReconcile(i: ReconcileInput): ReconcileAction[] {
  const actions: ReconcileAction[] = [];
  const reported = new Map(i.reported.map((c) => [c.jobId, c]));
  for (const job of i.jobs) {
    if (job.site !== i.site) continue;
    const status = reported.get(job.id);
    const busy = i.inflight.has(job.id);
    if (job.pendingOp) {
      if (!i.partial && !busy) actions.push({ kind: 'rerun', job: job.id });
    } else if (job.state === 'RUNNING' && !busy) {
      if (!i.settled(job.id)) {
        if (status) actions.push({ kind: 'status', job: job.id, status });
      } else if (status && status.vms.length > 0) {
        const allOff = job.vms.every((v) => (status.vms.find((s) => s.name === v.name)?.state ?? 'MISSING') === 'SHUTOFF');
        actions.push({ kind: allOff ? 'complete' : 'status', job: job.id, status });
      } else if (!i.partial) {
        actions.push({ kind: 'redeploy', job: job.id });
      }
    } else if (job.state === 'DEPLOYING' && !busy && !i.partial) {
      actions.push({ kind: 'deploy', job: job.id });
    }
  }
  if (!i.partial) for (const job of i.releasing) if (!reported.has(job)) actions.push({ kind: 'release', job });
  return actions;
}

export class Reconciler {
  constructor(
    private readonly ctx: Pick<CoordinatorContext, 'store' | 'allocator' | 'clock' | 'log' | 'flags' | 'index' | 'grid' | 'placement' | 'deployer' | 'operations' | 'teardown'>,
  ) {}

  async reconcile(site: string, clusters: ClusterStatus[], options: { partial?: boolean } = {}): Promise<void> {
    const { store, allocator, flags, grid } = this.ctx;
    const now = this.ctx.clock.now().getTime();
    const actions = planReconcile({
      site,
      jobs: this.ctx.index.at(site),
      reported: clusters,
      partial: options.partial === true,
      inflight: flags.inflight,
      settled: (id) => flags.isSettled(id, now),
      releasing: allocator.leases(site).filter((l) => l.state === 'releasing').map((l) => l.job),
    });
    let changed = false;
    const ending: JobRecord[] = [];
    for (const a of actions) {
      const job = store.data.jobs[a.job];
      if (a.kind === 'release') {
        allocator.release(site, a.job);
        changed = true;
        if (job && isEnded(job.state)) void store.archiveJob(job.id);
        continue;
      }
      if (!job) continue;
      switch (a.kind) {
        case 'rerun':
          void this.ctx.operations.run(job).catch((err: unknown) => this.ctx.log.warn({ job: job.id, site, err: errorMessage(err) }, 're-issued operation failed'));
          break;
        case 'status':
          changed = grid.applyStatus(job, a.status) || changed;
          break;
        case 'complete':
          grid.applyStatus(job, a.status);
          grid.setState(job, 'COMPLETED', `all ${job.vms.length} VMs shut down by themselves`);
          ending.push(job);
          changed = true;
          break;
        case 'redeploy':
          grid.setState(job, 'DEPLOYING', `VMs missing on ${site} (agent restarted with a fresh hypervisor state); redeploying`);
          changed = true;
          void this.ctx.deployer.deploy(job);
          break;
        case 'deploy':
          void this.ctx.deployer.deploy(job);
          break;
      }
    }
    if (changed) {
      await grid.commit();
      this.ctx.placement.schedule();
    }
    for (const job of ending) await this.ctx.teardown.endJob(job, site);
  }
}
