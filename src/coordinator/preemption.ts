// A site's batch scheduler takes nodes back (`brine site reclaim`): no new VM goes there, and each
// job with VMs on them is suspended within the grace period, then resumes by itself elsewhere.
import { errorMessage, InvalidArgumentError, NotFoundError } from '../shared/errors.js';
import { sleep, type TimerHandle } from '../shared/clock.js';
import { checkName } from '../shared/names.js';
import type { Site } from '../shared/proto.js';
import { parseDurationMs } from '../shared/units.js';
import type { PreemptedJob__Output as PreemptedJob } from '../gen/brine/v1/PreemptedJob.js';
import { retryDelayMs } from '../shared/backoff.js';
import { isMove } from './capacity.js';
import { HOLDING_STATES, isEnded } from './job-state.js';
import type { JobRecord, SiteRecord } from './store.js';
import type { CoordinatorContext } from './context.js';

/** How long a reclaim waits for the final snapshots when the caller gives no `--grace`. */
const DEFAULT_GRACE_MS = 120_000;
/** How often a preemption looks again at a job busy with something else (a checkpoint, a move). */
const BUSY_POLL_MS = 200;

export class Preemption {
  constructor(
    private readonly ctx: Pick<CoordinatorContext, 'store' | 'clock' | 'timers' | 'log' | 'events' | 'flags' | 'index' | 'grid' | 'registry' | 'placement' | 'operations'>,
  ) {}

  /**
   * Marks `nodes` reclaimed and suspends each job with VMs on them, within `grace`; the answer
   * says, per job, whether that happened. Each one then resumes by itself wherever there is room.
   */
  async reclaim(siteName: string, nodes: readonly string[], grace: string): Promise<Site> {
    const { grid } = this.ctx;
    const site = this.siteForNodes(siteName, nodes);
    const graceMs = grace ? parseDurationMs(grace, 'grace') : DEFAULT_GRACE_MS;
    const reason = `nodes ${[...nodes].sort().join(', ')} of ${siteName} reclaimed by its batch scheduler`;
    site.reclaimedNodes = [...new Set([...site.reclaimedNodes, ...nodes])].sort();
    const hit = [...this.ctx.index.at(siteName)].filter((j) => (HOLDING_STATES.has(j.state) || isMove(j.pendingOp)) && j.vms.some((v) => nodes.includes(v.node)));
    for (const job of hit) job.autoResume = reason;
    await grid.commit();
    this.ctx.log.info({ site: siteName, nodes, jobs: hit.map((j) => j.id), graceMs }, 'nodes reclaimed');
    this.ctx.events.publish({ type: 'site.reclaim', site: siteName, reason: `${reason}; preempting ${hit.map((j) => j.id).join(', ') || 'no job'}` });
    const deadline = this.ctx.clock.now().getTime() + graceMs;
    const preempted = await Promise.all(
      hit.map(async (job) => {
        // the reclaimed nodes its VMs held when the reclaim came: free of brine VMs only if saved
        const held = [...new Set(job.vms.map((v) => v.node).filter((n) => nodes.includes(n)))].sort();
        return { ...(await this.preempt(job, siteName, nodes, deadline, reason)), nodes: held };
      }),
    );
    const unsaved = preempted.filter((p) => !p.saved);
    if (unsaved.length) this.ctx.log.warn({ site: siteName, jobs: unsaved.map((p) => p.job) }, 'reclaimed nodes: some jobs were not saved within the grace period');
    this.ctx.placement.schedule();
    const view = this.ctx.registry.view(siteName);
    return { ...view, preempted };
  }

  /** Reclaimed nodes are free for best-effort work again. */
  async release(siteName: string, nodes: readonly string[]): Promise<Site> {
    const site = this.siteForNodes(siteName, nodes);
    site.reclaimedNodes = site.reclaimedNodes.filter((n) => !nodes.includes(n));
    await this.ctx.grid.commit();
    this.ctx.log.info({ site: siteName, nodes }, 'nodes released');
    this.ctx.events.publish({ type: 'site.release', site: siteName, reason: `nodes ${[...nodes].sort().join(', ')} of ${siteName} free for best-effort work again` });
    this.ctx.placement.schedule();
    return this.ctx.registry.view(siteName);
  }

  /**
   * Suspends one job hit by a reclaim, waiting out whatever it is doing first, until `deadline`.
   * A suspend that fails is retried with backoff (`backoff.ts`), never in a tight loop.
   */
  private async preempt(job: JobRecord, site: string, nodes: readonly string[], deadline: number, reason: string): Promise<Omit<PreemptedJob, 'nodes'>> {
    let lastError = '';
    let failures = 0;
    for (;;) {
      const onNodes = job.site === site && job.vms.some((v) => nodes.includes(v.node));
      if (isEnded(job.state)) return { job: job.id, snapshot: '', saved: true, reason: `job ${job.state}` };
      if (job.state === 'SUSPENDED' || (!onNodes && !isMove(job.pendingOp))) {
        // suspended (by this reclaim or a racing one), or already moved off these nodes
        return {
          job: job.id,
          snapshot: job.lastSnapshot,
          saved: true,
          reason: job.state === 'SUSPENDED' ? `suspended; snapshot ${job.lastSnapshot} complete on disk` : `now ${job.state} on ${job.site}`,
        };
      }
      const left = deadline - this.ctx.clock.now().getTime();
      if (left <= 0) {
        return { job: job.id, snapshot: '', saved: false, reason: `not saved within the grace period: still ${job.state}${lastError ? ` (${lastError})` : ''}` };
      }
      if (job.state === 'RUNNING' && !job.pendingOp && !this.ctx.flags.inflight.has(job.id)) {
        let failed = false;
        const suspending = this.ctx.operations.startSuspend(job, `preempted: ${reason}`).catch((err: unknown) => {
          lastError = errorMessage(err);
          failed = true;
        });
        // the grace period's end, cleared once the suspend ends (a pending timer would outlive the reply)
        let graceTimer: TimerHandle | undefined;
        const graceOver = new Promise<void>((resolve) => {
          graceTimer = this.ctx.timers.setTimeout(resolve, left);
        });
        await Promise.race([suspending, graceOver]);
        this.ctx.timers.clearTimeout(graceTimer);
        if (failed) {
          failures++;
          const wait = Math.min(retryDelayMs(failures, undefined, Math.random()), Math.max(0, deadline - this.ctx.clock.now().getTime()));
          this.ctx.log.warn({ job: job.id, site, attempt: failures, retryInMs: wait, err: lastError }, 'preemption suspend failed; retrying');
          await sleep(this.ctx.timers, wait);
        }
      } else {
        // checkpointing, deploying, moving…: let it finish (a racing reclaim's suspend included)
        await sleep(this.ctx.timers, Math.min(BUSY_POLL_MS, left));
      }
    }
  }

  private siteForNodes(siteName: string, nodes: readonly string[]): SiteRecord {
    checkName(siteName, 'site');
    const site = this.ctx.store.data.sites[siteName];
    if (!site) throw new NotFoundError('site', siteName);
    if (nodes.length === 0) throw new InvalidArgumentError('nodes', 'give at least one node');
    const known = site.nodes.map((n) => n.name);
    const unknown = nodes.filter((n) => !known.includes(n));
    if (unknown.length) throw new InvalidArgumentError('nodes', `unknown node${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} at ${siteName} (known: ${known.join(', ')})`);
    return site;
  }
}
