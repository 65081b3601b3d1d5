// Snapshots between sites: the destination's agent pulls from a site that holds an intact copy
// (bytes never pass through the coordinator); a copy the destination finds damaged is marked so
// and the next holder is tried.
import { errorMessage, isDataLoss, NotFoundError, UnavailableError } from '../shared/errors.js';
import { formatBytes, formatEta } from '../shared/units.js';
import type { SiteRecord } from './store.js';
import type { CoordinatorContext } from './context.js';

/** At most this often a `transfer.progress` event per transfer: watchers want a bar, not a flood. */
const PROGRESS_EVERY_MS = 200;

export class Transfers {
  /** every site each live job's snapshots were sent to or are being sent to (a cancel cleans them all) */
  private readonly sentTo = new Map<string, Set<string>>();

  constructor(private readonly ctx: Pick<CoordinatorContext, 'store' | 'agents' | 'clock' | 'log' | 'events' | 'grid' | 'catalog' | 'registry'>) {}

  /**
   * Makes sure site `to` holds snapshot `snapshotId` complete, pulling it agent to agent from a
   * site that has it (the job's own site first); progress goes out as `transfer.progress` events.
   */
  async transfer(jobId: string, snapshotId: string, to: string, urgent: boolean): Promise<void> {
    const { store, catalog, registry } = this.ctx;
    const snap = catalog.get(snapshotId);
    if (!snap) throw new NotFoundError('snapshot', snapshotId);
    if (snap.sites.includes(to)) return;
    const dest = store.data.sites[to];
    if (!dest) throw new NotFoundError('site', to);
    const home = store.data.jobs[jobId]?.site;
    // the job's own site first (its copy is the freshest on disk there), then the others
    const holders = () => [...snap.sites].sort((a, b) => Number(b === home) - Number(a === home)).filter((s) => s !== to && registry.isUp(s));
    let done: { bytesTotal: number } | undefined;
    let sourceName = '';
    const tried: string[] = [];
    for (;;) {
      const source = holders().find((s) => !tried.includes(s));
      if (source === undefined) break;
      tried.push(source);
      const record = store.data.sites[source];
      if (!record) continue;
      sourceName = source;
      try {
        done = await this.fetchFrom(jobId, snapshotId, source, record.advertise, dest, urgent);
        break;
      } catch (err) {
        if (!isDataLoss(err)) throw err;
        // the destination verified what the source sent and refused it: that copy is damaged
        catalog.markDamaged(snapshotId, source, err);
        await this.ctx.grid.commit();
      }
    }
    if (!done) {
      throw new UnavailableError(
        tried.length > 0
          ? `no intact copy of snapshot ${snapshotId} could be sent to ${to} (tried ${tried.join(', ')})`
          : `no site holding snapshot ${snapshotId} (${snap.sites.join(', ') || 'none'}) is UP`,
      );
    }
    catalog.addCopy(snapshotId, to);
    this.ctx.log.info({ job: jobId, snapshot: snapshotId, from: sourceName, to, bytes: done.bytesTotal, urgent }, 'snapshot transferred');
    await this.ctx.grid.commit();
  }

  /** Sites that received, or were receiving, snapshots of the job (complete or partial copies). */
  destinations(jobId: string): string[] {
    return [...(this.sentTo.get(jobId) ?? [])];
  }

  /** The job's copies are gone (it ended): nothing to remember. */
  forget(jobId: string): void {
    this.sentTo.delete(jobId);
  }

  /** One agent-to-agent pull of a snapshot; its progress goes out as `transfer.progress` events. */
  private async fetchFrom(jobId: string, snapshotId: string, source: string, sourceAddress: string, dest: SiteRecord, urgent: boolean): Promise<{ bytesTotal: number }> {
    let lastEvent = 0;
    let sites = this.sentTo.get(jobId);
    if (!sites) this.sentTo.set(jobId, (sites = new Set()));
    sites.add(dest.name);
    try {
      return await this.ctx.agents.fetchSnapshot(
        dest.advertise,
        { operationId: `${jobId}/fetch/${snapshotId}/${dest.name}`, snapshotId, jobId, source: sourceAddress, urgent },
        (p) => {
          const now = this.ctx.clock.now().getTime();
          if (!p.done && now - lastEvent < PROGRESS_EVERY_MS) return;
          lastEvent = now;
          const left = Math.max(0, p.bytesTotal - p.bytesDone);
          const etaMs = p.done ? 0 : p.rateBps > 0 ? Math.round((left / p.rateBps) * 1000) : -1;
          this.ctx.events.publish({
            type: 'transfer.progress',
            job: jobId,
            site: dest.name,
            snapshot: snapshotId,
            bytesDone: p.bytesDone,
            bytesTotal: p.bytesTotal,
            rateBps: p.rateBps,
            etaMs,
            reason:
              `${urgent ? 'move' : 'replica'} ${snapshotId} ${source}→${dest.name}: ${formatBytes(p.bytesDone)}/${formatBytes(p.bytesTotal)}` +
              (p.rateBps > 0 ? ` at ${formatBytes(p.rateBps)}/s` : '') +
              (etaMs > 0 ? `, ${formatEta(etaMs)} left` : '') +
              ` (${p.phase || 'transferring'})`,
          });
        },
      );
    } catch (err) {
      this.ctx.log.debug({ job: jobId, snapshot: snapshotId, from: source, to: dest.name, err: errorMessage(err) }, 'fetch failed');
      throw err;
    }
  }
}
