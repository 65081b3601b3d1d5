// The placement loop: pending jobs onto sites with room (fresh leases, then a deploy), and
// SUSPENDED jobs waiting to resume (preempted, or a move rolled back) back wherever there is room.
import { errorMessage } from '../shared/errors.js';
import { noteReason } from './job-state.js';
import { guestNeeds, jobRequest, restoreRequest } from './capacity.js';
import { consume, pendingReason, rankSites, type SiteCapacity } from './scheduler.js';
import type { JobRecord } from './store.js';
import type { CoordinatorContext } from './context.js';

export class PlacementLoop {
  private placing = false;
  private placeAgain = false;
  private stopped = false;

  constructor(
    private readonly ctx: Pick<
      CoordinatorContext,
      'store' | 'allocator' | 'clock' | 'timers' | 'log' | 'events' | 'flags' | 'index' | 'grid' | 'catalog' | 'registry' | 'deployer' | 'operations' | 'moves'
    >,
  ) {}

  /** Runs a placement pass soon; passes never overlap, and a request during one causes another. */
  schedule(): void {
    if (this.stopped) return;
    if (this.placing) {
      this.placeAgain = true;
      return;
    }
    this.placing = true;
    this.ctx.timers.soon(() => {
      this.placePending()
        .catch((err: unknown) => this.ctx.log.error({ err: errorMessage(err) }, 'placement pass failed'))
        .finally(() => {
          this.placing = false;
          if (this.placeAgain) {
            this.placeAgain = false;
            this.schedule();
          }
        });
    });
  }

  stop(): void {
    this.stopped = true;
  }

  /** One pass (exposed for tests; `schedule` is how the coordinator asks for one). */
  async placePending(): Promise<void> {
    const { store, flags, grid } = this.ctx;
    const { index } = this.ctx;
    const pending = [...index.pending()].filter((j) => !flags.unacked.has(j.id)).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
    const waiting = [...index.waiting()].filter((j) => !flags.inflight.has(j.id));
    if (pending.length === 0 && waiting.length === 0) return;
    const caps = grid.capacities();
    // preempted jobs first: they ran already, and a resume costs less than a first deploy waits
    if (this.placeSuspended(waiting, caps)) await grid.commit();
    const toDeploy: JobRecord[] = [];
    let changed = false;
    for (const job of pending) {
      const req = { ...jobRequest(job), ...(job.pinnedSite ? { site: job.pinnedSite } : {}) };
      const { fits, misses } = rankSites(caps.values(), req);
      let placed = false;
      const reasons = [...misses];
      for (const fit of fits) {
        const vmNames = Array.from({ length: job.vmCount }, (_, i) => `${job.name}-${i}`);
        const lease = this.ctx.allocator.reserve(fit.site, job.id, vmNames);
        if (!lease.ok) {
          reasons.push({ ok: false, site: fit.site, reason: lease.reason });
          continue;
        }
        job.site = fit.site;
        job.subnet = lease.lease.subnet;
        job.gateway = lease.lease.gateway;
        job.vms = lease.lease.vms.map((v, i) => ({
          name: v.vm,
          node: fit.nodes[i] as string,
          mac: v.mac,
          ip: v.ip,
          state: 'PENDING',
          domain: '',
          console: '',
        }));
        job.needs = guestNeeds(store.data.sites[fit.site], fit.nodes);
        consume(caps.get(fit.site) as SiteCapacity, fit.nodes, job);
        grid.setState(job, 'DEPLOYING', `placed on ${fit.site} (nodes ${[...new Set(fit.nodes)].join(', ')}), subnet ${job.subnet}`);
        toDeploy.push(job);
        placed = true;
        changed = true;
        break;
      }
      if (!placed && noteReason(job, pendingReason(req, reasons), this.ctx.clock.now())) {
        changed = true;
        const last = job.history[job.history.length - 1];
        this.ctx.events.publish({ type: 'job.pending', job: job.id, state: 'PENDING', reason: last?.reason ?? '' });
      }
    }
    if (changed) await grid.commit();
    for (const job of toDeploy) void this.ctx.deployer.deploy(job);
  }

  /**
   * Placement of SUSPENDED jobs waiting to resume: a site that holds the latest snapshot first (no
   * transfer: the job's own site, then replicas), else any site with room, through a move.
   * Returns whether anything changed (the caller commits).
   */
  private placeSuspended(jobs: JobRecord[], caps: Map<string, SiteCapacity>): boolean {
    const { catalog, registry, grid } = this.ctx;
    let changed = false;
    for (const job of jobs.sort((a, b) => a.createdAt.localeCompare(b.createdAt))) {
      const req = restoreRequest(job);
      const snap = catalog.latestIntact(job.id);
      if (!snap) {
        changed = noteReason(job, `cannot resume by itself: no intact snapshot (${job.autoResume})`, this.ctx.clock.now()) || changed;
        continue;
      }
      const { fits, misses } = rankSites(caps.values(), req);
      const order = (site: string): number => (site === job.site ? 0 : snap.sites.includes(site) ? 1 : 2);
      const reachable = snap.sites.some((s) => registry.isUp(s));
      const fit = fits.filter((f) => order(f.site) < 2 || reachable).sort((a, b) => order(a.site) - order(b.site))[0];
      if (!fit) {
        const why = `waiting for room to resume (${job.autoResume}): ${pendingReason(req, misses)}`;
        if (noteReason(job, why, this.ctx.clock.now())) {
          changed = true;
          this.ctx.events.publish({ type: 'job.pending', job: job.id, state: 'SUSPENDED', reason: why });
        }
        continue;
      }
      try {
        if (fit.site === job.site) {
          job.vms.forEach((vm, i) => (vm.node = fit.nodes[i] as string));
          job.pendingOp = { kind: 'resume', snapshotId: snap.id, reason: job.autoResume ?? 'automatic' };
          grid.setState(job, 'RESUMING', `resuming on ${job.site} (nodes ${[...new Set(fit.nodes)].join(', ')}) from snapshot ${snap.id}: ${job.autoResume}`);
        } else {
          this.ctx.moves.start(job, fit.site, fit.nodes, snap.id, job.autoResume ?? 'automatic');
        }
      } catch (err) {
        this.ctx.log.warn({ job: job.id, site: fit.site, err: errorMessage(err) }, 'cannot resume a waiting job there');
        continue;
      }
      consume(caps.get(fit.site) as SiteCapacity, fit.nodes, job);
      changed = true;
      this.ctx.operations.runSoon(job, 'automatic resume failed');
    }
    return changed;
  }
}
