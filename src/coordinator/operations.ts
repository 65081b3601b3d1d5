// A job's operations on its own site: checkpoint, suspend, resume. Each is recorded as the job's
// `pendingOp` and committed before the agent is asked, so a coordinator restarted meanwhile
// re-issues it with the same ids (idempotent at the agent).
import { errorMessage, isDataLoss, NotAllowedError } from '../shared/errors.js';
import { checkName } from '../shared/names.js';
import type { Snapshot } from '../shared/proto.js';
import { formatBytes } from '../shared/units.js';
import type { SnapshotKind } from './agents.js';
import { isMove, restoreRequest } from './capacity.js';
import { fitOnSite, type SiteCapacity } from './scheduler.js';
import type { JobRecord, PendingOp } from './store.js';
import type { CoordinatorContext } from './context.js';
import { clusterSpec } from './wire.js';

export class JobOperations {
  /** the run of each job's pending operation under way (`runOp`) */
  private readonly runs = new Map<string, Promise<void>>();

  constructor(
    private readonly ctx: Pick<
      CoordinatorContext,
      'store' | 'agents' | 'ids' | 'timers' | 'log' | 'flags' | 'grid' | 'catalog' | 'registry' | 'placement' | 'moves' | 'replication'
    >,
  ) {}

  /** A coordinated snapshot of a running job now (user request or periodic policy). */
  async snapshot(job: JobRecord, reason = 'requested by user'): Promise<Snapshot> {
    if (job.state !== 'RUNNING') throw new NotAllowedError(`job ${job.id} is ${job.state}: only a RUNNING job can be snapshotted`);
    this.ctx.flags.checkIdle(job);
    const op: PendingOp = { kind: 'checkpoint', snapshotId: this.ctx.ids.snapshot(), reason };
    job.pendingOp = op;
    this.ctx.grid.setState(job, 'CHECKPOINTING', `checkpoint ${op.snapshotId}: ${reason}`);
    await this.ctx.grid.commit();
    await this.run(job);
    const snap = this.ctx.catalog.get(op.snapshotId);
    if (!snap) throw new NotAllowedError(`job ${job.id} changed state during its checkpoint`);
    return snap;
  }

  /** Final snapshot, then the VMs are stopped and the job's nodes freed; its leases are kept. */
  async suspend(job: JobRecord, reason = 'requested by user'): Promise<void> {
    if (job.state !== 'RUNNING') throw new NotAllowedError(`job ${job.id} is ${job.state}: only a RUNNING job can be suspended`);
    this.ctx.flags.checkIdle(job);
    await this.startSuspend(job, reason);
  }

  /** Records and runs a suspend of a job known to be RUNNING and idle. */
  async startSuspend(job: JobRecord, reason: string): Promise<void> {
    job.pendingOp = { kind: 'suspend', snapshotId: this.ctx.ids.snapshot(), reason };
    this.ctx.grid.setState(job, 'SUSPENDING', `suspending (${reason}): final snapshot ${job.pendingOp.snapshotId}`);
    await this.ctx.grid.commit();
    await this.run(job);
  }

  /** Recreates a SUSPENDED job from its latest intact snapshot, on the nodes of its site that have room now. */
  async resume(job: JobRecord, site?: string): Promise<JobRecord> {
    const { grid, registry } = this.ctx;
    if (job.state !== 'SUSPENDED') throw new NotAllowedError(`job ${job.id} is ${job.state}: only a SUSPENDED job can be resumed`);
    this.ctx.flags.checkIdle(job);
    if (site) checkName(site, 'site');
    if (site && site !== job.site) return this.ctx.moves.migrate(job, site, `resume requested on ${site}`);
    if (!registry.isUp(job.site)) throw new NotAllowedError(`site ${job.site} is DOWN: job ${job.id} resumes once it is back`);
    const snap = this.ctx.catalog.latestIntact(job.id, job.site);
    if (!snap) throw new NotAllowedError(`job ${job.id} has no intact snapshot on ${job.site}`);
    const cap = grid.capacities().get(job.site) as SiteCapacity;
    const fit = fitOnSite(cap, restoreRequest(job));
    if (!fit.ok) throw new NotAllowedError(`no room to resume job ${job.id} now: ${fit.reason}`);
    job.vms.forEach((vm, i) => (vm.node = fit.nodes[i] as string));
    job.pendingOp = { kind: 'resume', snapshotId: snap.id, reason: 'requested by user' };
    grid.setState(job, 'RESUMING', `resuming on ${job.site} (nodes ${[...new Set(fit.nodes)].join(', ')}) from snapshot ${snap.id}`);
    await grid.commit();
    await this.run(job);
    return job;
  }

  /**
   * Runs (or re-runs, after a coordinator restart) a job's pending operation, or joins the run
   * already under way: a heartbeat's reconcile may start it between the request's commit and its
   * own call, and the request must still wait for the outcome (and see its error).
   */
  run(job: JobRecord): Promise<void> {
    const running = this.runs.get(job.id);
    if (running) return running;
    const run = this.runOnce(job).finally(() => {
      if (this.runs.get(job.id) === run) this.runs.delete(job.id);
    });
    this.runs.set(job.id, run);
    return run;
  }

  /**
   * Runs the operation just recorded on `job` once a commit has made it durable, without making
   * the caller (a placement pass, the liveness tick) wait for the whole move or resume.
   */
  runSoon(job: JobRecord, failure: string): void {
    this.ctx.timers.soon(() => {
      this.ctx.grid
        .commit()
        .then(() => this.run(job))
        .catch((err: unknown) => this.ctx.log.warn({ job: job.id, err: errorMessage(err) }, failure));
    });
  }

  /** One run of a job's pending operation; idempotent at the agent. */
  private async runOnce(job: JobRecord): Promise<void> {
    const { flags, grid, catalog } = this.ctx;
    const op = job.pendingOp;
    if (isMove(op)) return this.ctx.moves.run(job, op);
    const site = this.ctx.store.data.sites[job.site];
    if (!op || !site || flags.inflight.has(job.id)) return;
    flags.inflight.add(job.id);
    try {
      if (op.kind === 'resume') {
        const status = await this.ctx.agents.restore(site.advertise, `${job.id}/resume/${op.snapshotId}`, clusterSpec(job), op.snapshotId);
        if (job.pendingOp !== op) return;
        job.pendingOp = undefined;
        job.autoResume = undefined;
        grid.applyStatus(job, status);
        grid.setState(job, 'RUNNING', `resumed on ${job.site} from snapshot ${op.snapshotId}`);
      } else {
        const kind = op.kind as SnapshotKind; // moves never get here (moves.run)
        const taken = await this.ctx.agents.takeSnapshot(site.advertise, `${job.id}/${kind}/${op.snapshotId}`, job.id, op.snapshotId, kind);
        if (job.pendingOp !== op) return; // cancelled meanwhile
        job.pendingOp = undefined;
        const rec = catalog.add(job, taken, op.snapshotId, job.site, op.kind);
        const what = `snapshot ${rec.id}: ${formatBytes(rec.totalBytes)} (${formatBytes(rec.newBytes)} new), downtime ${rec.downtimeMs} ms`;
        if (op.kind === 'checkpoint') {
          grid.setState(job, 'RUNNING', `checkpoint done (${op.reason}); ${what}`);
          void this.ctx.replication.replicate(job.id, rec.id);
        } else {
          for (const vm of job.vms) vm.state = 'SUSPENDED';
          grid.setState(job, 'SUSPENDED', `suspended on ${job.site}; ${what}; nodes freed, addresses kept`);
          this.ctx.placement.schedule();
        }
      }
      await grid.commit();
      if (op.kind !== 'resume') void catalog.prune(job, site);
    } catch (err) {
      if (job.pendingOp !== op) return;
      job.pendingOp = undefined;
      const message = errorMessage(err);
      this.ctx.log.warn({ job: job.id, site: job.site, op: op.kind, err: message }, 'operation failed');
      if (op.kind === 'resume') {
        let next = '';
        if (isDataLoss(err)) {
          catalog.markDamaged(op.snapshotId, job.site, err);
          // never an older state without being asked: say which one a retry would use
          const older = catalog.latestIntact(job.id, job.site);
          next = older
            ? `; \`brine resume ${job.id}\` resumes from the older snapshot ${older.id} (${older.createdAt})`
            : `; no intact snapshot of it is left on ${job.site}`;
        }
        for (const vm of job.vms) vm.state = 'SUSPENDED';
        grid.setState(job, 'SUSPENDED', `resume from ${op.snapshotId} failed: ${message}${next}`);
      } else {
        grid.setState(job, 'RUNNING', `${op.kind} ${op.snapshotId} failed: ${message}`);
      }
      await grid.commit();
      throw err;
    } finally {
      flags.inflight.delete(job.id);
      grid.settle(job.id);
    }
  }
}
