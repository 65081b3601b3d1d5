// Failover: a site DOWN for `jobs.failoverAfter` has failed (as far as its jobs can tell). Each
// RUNNING job there resumes on another site from its latest snapshot copied to an UP site. The
// decision per job is pure (`decideFailover`); `Failover` applies it.
import { errorMessage } from '../shared/errors.js';
import type { Snapshot } from '../shared/proto.js';
import { restoreRequest } from './capacity.js';
import { noteReason } from './job-state.js';
import { consume, pendingReason, rankSites, type SiteCapacity } from './scheduler.js';
import type { JobRecord } from './store.js';
import type { CoordinatorContext } from './context.js';

export type FailoverDecision =
  | { kind: 'wait'; reason: string }
  | { kind: 'move'; to: string; nodes: string[]; snapshot: Snapshot; reason: string };

/**
 * Where `job`, whose site is DOWN since `since`, goes: the newest intact snapshot on another UP
 * site, onto a site with room (one holding that snapshot first: nothing to send). Without one it
 * waits for its site, saying why.
 */
export function decideFailover(
  job: JobRecord,
  since: number,
  snapshots: readonly Snapshot[],
  caps: Map<string, SiteCapacity>,
  isUp: (site: string) => boolean,
): FailoverDecision {
  const down = `site ${job.site} is DOWN since ${new Date(since).toISOString()}`;
  const snap = snapshots.filter((s) => !s.damaged && s.sites.some((x) => x !== job.site && isUp(x))).at(-1);
  if (!snap) return { kind: 'wait', reason: `${down}; no snapshot of it is on another UP site: it carries on when ${job.site} is back` };
  const req = restoreRequest(job);
  const { fits, misses } = rankSites(caps.values(), req);
  const fit = fits.filter((f) => f.site !== job.site).sort((a, b) => Number(snap.sites.includes(b.site)) - Number(snap.sites.includes(a.site)))[0];
  if (!fit) return { kind: 'wait', reason: `${down}; waiting for room elsewhere to resume it from snapshot ${snap.id}: ${pendingReason(req, misses)}` };
  return { kind: 'move', to: fit.site, nodes: fit.nodes, snapshot: snap, reason: `failover: ${down}; from snapshot ${snap.id} of ${snap.createdAt}, its work since then is lost` };
}

export class Failover {
  constructor(private readonly ctx: Pick<CoordinatorContext, 'config' | 'clock' | 'log' | 'flags' | 'index' | 'grid' | 'catalog' | 'registry' | 'moves' | 'operations'>) {}

  /**
   * Its leases at the dead site stay `releasing` until that site is back and shows the cluster
   * gone: the site's agent destroys what is no longer placed there (fencing), so the job never
   * runs twice once the site reconnects. What the job did since its snapshot is lost, and its
   * history says so.
   */
  check(): void {
    const { config, clock, registry, flags } = this.ctx;
    const after = config.jobs.failoverAfter;
    if (after === null) return;
    const now = clock.now().getTime();
    const dead = new Map([...registry.down()].filter(([site, since]) => now - since >= after && !registry.isUp(site)));
    if (dead.size === 0) return;
    let caps: Map<string, SiteCapacity> | undefined;
    let changed = false;
    for (const job of [...dead.keys()].flatMap((site) => [...this.ctx.index.at(site)])) {
      const since = dead.get(job.site);
      if (since === undefined || job.state !== 'RUNNING' || job.pendingOp || flags.inflight.has(job.id)) continue;
      caps ??= this.ctx.grid.capacities();
      const d = decideFailover(job, since, this.ctx.catalog.of(job.id), caps, (s) => registry.isUp(s));
      if (d.kind === 'wait') {
        changed = noteReason(job, d.reason, clock.now()) || changed;
        continue;
      }
      try {
        this.ctx.moves.start(job, d.to, d.nodes, d.snapshot.id, d.reason, { fromSnapshot: true });
      } catch (err) {
        this.ctx.log.warn({ job: job.id, site: d.to, err: errorMessage(err) }, 'cannot fail the job over there');
        continue;
      }
      consume(caps.get(d.to) as SiteCapacity, d.nodes, job);
      this.ctx.log.warn({ job: job.id, from: job.site, to: d.to, snapshot: d.snapshot.id }, 'failing a job over to another site');
      changed = true;
      this.ctx.operations.runSoon(job, 'failover move failed');
    }
    if (changed) void this.ctx.grid.commit().catch((err: unknown) => this.ctx.log.error({ err: errorMessage(err) }, 'commit failed'));
  }
}
