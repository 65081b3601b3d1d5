// Moves between sites, carried out: the phases of `move-steps.ts` run against the agents, each
// persisted before the next, so a coordinator restarted mid-move finishes it or rolls it back.
import { errorMessage, InvalidArgumentError, isDataLoss, NotAllowedError, NotFoundError } from '../shared/errors.js';
import { checkName } from '../shared/names.js';
import type { Snapshot } from '../shared/proto.js';
import { formatBytes } from '../shared/units.js';
import { noteReason } from './job-state.js';
import { restoreRequest, type MoveOp } from './capacity.js';
import { fitOnSite, type SiteCapacity } from './scheduler.js';
import { firstStep, nextPhase, planMove, type MovePhase, type StepOutcome } from './move-steps.js';
import { clonePlain } from './tracked.js';
import type { JobRecord, SiteRecord } from './store.js';
import type { CoordinatorContext } from './context.js';
import { clusterSpec } from './wire.js';

/** A step's result: its outcome (and error), or `stale` when the job changed meanwhile (a cancel). */
type StepResult = { outcome: StepOutcome; error?: unknown; freedNodes?: boolean } | 'stale';

export class MoveExecutor {
  constructor(
    private readonly ctx: Pick<
      CoordinatorContext,
      'store' | 'allocator' | 'agents' | 'clock' | 'ids' | 'log' | 'flags' | 'index' | 'grid' | 'catalog' | 'registry' | 'placement' | 'operations' | 'transfers' | 'teardown'
    >,
  ) {}

  /**
   * Moves a RUNNING or SUSPENDED job to site `to`: fresh leases there (the origin's stay held),
   * if it runs a pre-copy (`opts.precopy`, see `precopy`) then a final snapshot at the origin,
   * transfer agent to agent, restore at `to` with the new addresses, then the origin's leases are
   * released. Any failure at `to` rolls back to the origin.
   */
  async migrate(job: JobRecord, to: string, reason = 'requested by user', opts: { precopy?: boolean } = {}): Promise<JobRecord> {
    if (job.state !== 'RUNNING' && job.state !== 'SUSPENDED') {
      throw new NotAllowedError(`job ${job.id} is ${job.state}: only a RUNNING or SUSPENDED job can be moved`);
    }
    this.ctx.flags.checkIdle(job);
    checkName(to, 'to');
    const dest = this.ctx.store.data.sites[to];
    if (!dest) throw new NotFoundError('site', to);
    if (to === job.site) throw new InvalidArgumentError('to', `job ${job.id} is already on ${to}`);
    const { snapshotId, nodes } = this.check(job, dest);
    this.start(job, to, nodes, snapshotId, reason, { precopy: opts.precopy !== false });
    await this.ctx.grid.commit();
    await this.ctx.operations.run(job);
    return job;
  }

  /** Why `job` cannot go to `dest` now (throws, saying why), else the nodes there and the snapshot to send. */
  private check(job: JobRecord, dest: SiteRecord): { snapshotId: string; nodes: string[] } {
    const { registry } = this.ctx;
    const id = job.id;
    if (!registry.isUp(dest.name)) throw new NotAllowedError(`site ${dest.name} is DOWN: cannot move job ${id} there`);
    if (!dest.images.includes(job.image)) {
      throw new NotAllowedError(`site ${dest.name} does not offer image ${job.image} (it has: ${dest.images.join(', ') || 'none'})`);
    }
    // only nodes that run the VMs' saved domain type and arch (restoreRequest; design notes, "Compatibility")
    const fit = fitOnSite(this.ctx.grid.capacities().get(dest.name) as SiteCapacity, restoreRequest(job));
    if (!fit.ok) throw new NotAllowedError(`no room for job ${id} on ${dest.name}: ${fit.reason}`);
    if (job.state === 'RUNNING') {
      if (!registry.isUp(job.site)) throw new NotAllowedError(`site ${job.site} is DOWN: job ${id} cannot take its final snapshot there`);
      return { snapshotId: this.ctx.ids.snapshot(), nodes: fit.nodes };
    }
    const snap = this.ctx.catalog.latestIntact(id);
    if (!snap) throw new NotAllowedError(`job ${id} has no intact snapshot to move`);
    if (!snap.sites.includes(dest.name) && !snap.sites.some((s) => registry.isUp(s))) {
      throw new NotAllowedError(`job ${id}'s latest snapshot ${snap.id} is only on ${snap.sites.join(', ')}, which is DOWN`);
    }
    return { snapshotId: snap.id, nodes: fit.nodes };
  }

  /**
   * Reserves the destination's leases and records the move (the caller commits). `fromSnapshot`:
   * a failover — the origin is unreachable, so there is no final snapshot; the job moves from the
   * one given (taken earlier, copied elsewhere) and counts as running (a rollback resumes it).
   */
  start(job: JobRecord, to: string, nodes: string[], snapshotId: string, reason: string, opts: { fromSnapshot?: boolean; precopy?: boolean } = {}): void {
    const lease = this.ctx.allocator.reserve(to, job.id, job.vms.map((v) => v.name));
    if (!lease.ok) throw new NotAllowedError(`no addresses for job ${job.id} on ${to}: ${lease.reason}`);
    const move = planMove({
      job,
      to,
      nodes,
      lease: lease.lease,
      latest: this.ctx.catalog.latestIntact(job.id),
      fromSnapshot: opts.fromSnapshot === true,
      precopy: opts.precopy === true,
      precopySnapshotId: this.ctx.ids.snapshot(),
    });
    job.pendingOp = { kind: 'move', snapshotId, reason, move };
    this.ctx.grid.setState(job, 'RELOCATING', `moving from ${job.site} to ${to} (${reason}): ${firstStep(move, snapshotId)}; new subnet ${move.to.subnet} reserved`);
  }

  /** Runs a move from the phase it reached; every step is idempotent at the agents (same operation ids). */
  async run(job: JobRecord, op: MoveOp): Promise<void> {
    const { flags, grid } = this.ctx;
    if (flags.inflight.has(job.id)) return;
    flags.inflight.add(job.id);
    const m = op.move;
    try {
      for (let phase: MovePhase = m.phase; ; ) {
        const result = await this.step(phase, job, op);
        if (result === 'stale') return;
        const next = nextPhase(phase, result.outcome);
        if (next === 'abandoned') throw result.error;
        if (next === 'done' || next === 'rolled-back') break;
        m.phase = next;
        this.ctx.index.update(job); // a move holds the origin only until its final snapshot
        await grid.commit();
        if (result.freedNodes) this.ctx.placement.schedule();
        phase = next;
      }
    } finally {
      flags.inflight.delete(job.id);
      grid.settle(job.id);
    }
    // a rolled-back move of a running job: it resumes at the origin (or wherever there is room)
    if (job.state === 'SUSPENDED' && job.autoResume) this.ctx.placement.schedule();
  }

  private step(phase: MovePhase, job: JobRecord, op: MoveOp): Promise<StepResult> {
    switch (phase) {
      case 'precopy':
        return this.precopy(job, op);
      case 'snapshot':
        return this.finalSnapshot(job, op);
      case 'transfer':
        return this.send(job, op);
      case 'restore':
        return this.restore(job, op);
      case 'rollback':
        return this.rollback(job, op).then(() => ({ outcome: 'ok' as const }));
    }
  }

  /**
   * A move's pre-copy: a checkpoint of the running job (a normal one: cataloged, replicated no
   * further, pruned as usual) sent to the destination while the VMs run, so the final snapshot
   * stores and sends only what changed since. It only saves time: if it fails, the move carries
   * on without it. Idempotent (same ids) after a coordinator restart.
   */
  private async precopy(job: JobRecord, op: MoveOp): Promise<StepResult> {
    const m = op.move;
    const id = m.precopySnapshotId;
    const origin = this.ctx.store.data.sites[m.from.site];
    if (!id || !origin) return { outcome: 'ok' };
    try {
      let rec = this.ctx.catalog.get(id);
      if (!rec) {
        const taken = await this.ctx.agents.takeSnapshot(origin.advertise, `${job.id}/move/${op.snapshotId}/precopy`, job.id, id, 'checkpoint');
        if (job.pendingOp !== op) return 'stale';
        rec = this.ctx.catalog.add(job, taken, id, m.from.site, 'checkpoint');
        await this.ctx.grid.commit();
      }
      await this.ctx.transfers.transfer(job.id, id, m.to.site, true);
      if (job.pendingOp !== op) return 'stale';
      noteReason(job, `pre-copy ${id} (${formatBytes(rec.totalBytes)}, downtime ${rec.downtimeMs} ms) is on ${m.to.site}; final snapshot on ${m.from.site} next`, this.ctx.clock.now());
      return { outcome: 'ok' };
    } catch (err) {
      if (job.pendingOp !== op) return 'stale';
      this.ctx.log.warn({ job: job.id, snapshot: id, err: errorMessage(err) }, 'pre-copy failed; moving without it');
      noteReason(job, `pre-copy failed (${errorMessage(err)}); moving without it`, this.ctx.clock.now());
      return { outcome: 'failed', error: err };
    }
  }

  /** The final snapshot at the origin stops the VMs there; if it fails they run on, untouched. */
  private async finalSnapshot(job: JobRecord, op: MoveOp): Promise<StepResult> {
    const { grid } = this.ctx;
    const from = op.move.from.site;
    const to = op.move.to.site;
    const origin = this.ctx.store.data.sites[from];
    let taken: Snapshot;
    try {
      if (!origin) throw new NotFoundError('site', from);
      taken = await this.ctx.agents.takeSnapshot(origin.advertise, `${job.id}/move/${op.snapshotId}`, job.id, op.snapshotId, 'suspend');
    } catch (err) {
      if (job.pendingOp !== op) return 'stale';
      // a failed suspend resumes the VMs it paused: the job still runs at the origin, untouched
      job.pendingOp = undefined;
      this.ctx.allocator.release(to, job.id); // only reserved, never given to a VM
      grid.setState(job, 'RUNNING', `move to ${to} abandoned: final snapshot on ${from} failed: ${errorMessage(err)}`);
      await grid.commit();
      this.ctx.placement.schedule();
      return { outcome: 'failed', error: err };
    }
    if (job.pendingOp !== op) return 'stale';
    for (const vm of job.vms) vm.state = 'SUSPENDED';
    const rec = this.ctx.catalog.add(job, taken, op.snapshotId, from, 'suspend');
    noteReason(job, `final snapshot ${rec.id} on ${from}: ${formatBytes(rec.totalBytes)}, downtime ${rec.downtimeMs} ms; sending it to ${to}`, this.ctx.clock.now());
    return { outcome: 'ok', freedNodes: true }; // the origin's nodes are free once committed
  }

  /** The snapshot travels agent to agent; once there, the job is placed at the destination. */
  private async send(job: JobRecord, op: MoveOp): Promise<StepResult> {
    const m = op.move;
    try {
      await this.ctx.transfers.transfer(job.id, op.snapshotId, m.to.site, true);
    } catch (err) {
      if (job.pendingOp !== op) return 'stale';
      m.failure = `transfer to ${m.to.site} failed: ${errorMessage(err)}`;
      return { outcome: 'failed', error: err };
    }
    if (job.pendingOp !== op) return 'stale';
    job.site = m.to.site;
    job.subnet = m.to.subnet;
    job.gateway = m.to.gateway;
    job.vms = clonePlain(m.to.vms);
    m.restoreTried = true;
    this.ctx.grid.setState(
      job,
      'RESUMING',
      `restoring on ${m.to.site} (nodes ${[...new Set(job.vms.map((v) => v.node))].join(', ')}) from snapshot ${op.snapshotId}, subnet ${job.subnet}`,
    );
    return { outcome: 'ok' };
  }

  /** The cluster restored at the destination with its new addresses; then the origin is released. */
  private async restore(job: JobRecord, op: MoveOp): Promise<StepResult> {
    const { grid, allocator } = this.ctx;
    const from = op.move.from.site;
    const to = op.move.to.site;
    const dest = this.ctx.store.data.sites[to];
    try {
      if (!dest) throw new NotFoundError('site', to);
      const status = await this.ctx.agents.restore(dest.advertise, `${job.id}/move/${op.snapshotId}/restore`, clusterSpec(job), op.snapshotId);
      if (job.pendingOp !== op) return 'stale';
      grid.applyStatus(job, status);
      allocator.activate(to, job.id);
      // the cluster runs at the destination: only now may the origin's addresses go
      if (allocator.lease(from, job.id)) allocator.markReleasing(from, job.id);
      job.pendingOp = undefined;
      job.autoResume = undefined;
      const addrs = job.vms.map((v) => `${v.name} ${v.ip}`).join(', ');
      grid.setState(job, 'RUNNING', `moved from ${from} to ${to} (${op.reason}): subnet ${job.subnet}, ${addrs}`);
      await grid.commit();
      this.ctx.placement.schedule();
      void this.ctx.teardown.releaseAt(job.id, from, `${job.id}/move/${op.snapshotId}/release`);
      void this.ctx.catalog.prune(job, dest);
      return { outcome: 'ok' };
    } catch (err) {
      if (job.pendingOp !== op) return 'stale';
      if (isDataLoss(err)) this.ctx.catalog.markDamaged(op.snapshotId, to, err);
      op.move.failure = `restore on ${to} failed: ${errorMessage(err)}`;
      return { outcome: 'failed', error: err };
    }
  }

  /**
   * Undoes a move that failed at the destination: what the restore may have created there is
   * destroyed and its leases freed (or left `releasing` until the site confirms), the job is
   * placed back at the origin with its old addresses, SUSPENDED with its snapshot intact; a job
   * that was running resumes at once (the placement pass prefers the site holding its snapshot).
   */
  private async rollback(job: JobRecord, op: MoveOp): Promise<void> {
    const m = op.move;
    const to = m.to.site;
    this.ctx.log.warn({ job: job.id, from: m.from.site, to, err: m.failure }, 'move failed; rolling back');
    if (this.ctx.allocator.lease(to, job.id)) {
      if (m.restoreTried) {
        // a restore may have started VMs on these addresses: they are free only once gone
        this.ctx.allocator.markReleasing(to, job.id);
        await this.ctx.teardown.releaseAt(job.id, to, `${job.id}/move/${op.snapshotId}/undo`);
      } else {
        this.ctx.allocator.release(to, job.id); // reserved only, never given to a VM
      }
    }
    job.site = m.from.site;
    job.subnet = m.from.subnet;
    job.gateway = m.from.gateway;
    job.vms = clonePlain(m.from.vms).map((v) => ({ ...v, state: 'SUSPENDED' }));
    job.pendingOp = undefined;
    if (m.wasRunning) job.autoResume ??= `its move to ${to} failed`;
    this.ctx.grid.setState(
      job,
      'SUSPENDED',
      `move to ${to} failed (${m.failure ?? 'unknown'}); back on ${m.from.site} with its old addresses, snapshot ${op.snapshotId} intact` +
        (m.wasRunning ? '; resuming it' : ''),
    );
    await this.ctx.grid.commit();
  }
}
