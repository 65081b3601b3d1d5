// Transfers in progress, as the dashboard shows them: the latest `transfer.progress` event of each
// (snapshot, destination), until it is done or has been silent too long (a transfer that failed
// sends no last event). Pure: the caller gives the time.
import type { BrineEvent } from '../../shared/proto.js';

export interface TransferView {
  job: string;
  snapshot: string;
  /** the destination */
  site: string;
  bytesDone: number;
  bytesTotal: number;
  rateBps: number;
  etaMs: number;
  /** the coordinator's one-line summary (source → destination, move or replica, phase) */
  reason: string;
  updatedAt: string;
}

/** a transfer not heard of for this long is no longer shown */
export const STALE_MS = 30_000;

export class TransferTracker {
  private readonly live = new Map<string, TransferView>();

  handle(e: BrineEvent): void {
    if (e.type !== 'transfer.progress' || !e.snapshot) return;
    const key = `${e.snapshot}>${e.site}`;
    // done: every byte there and nothing left to wait for
    if (e.etaMs === 0 && e.bytesDone >= e.bytesTotal) {
      this.live.delete(key);
      return;
    }
    this.live.set(key, { job: e.job, snapshot: e.snapshot, site: e.site, bytesDone: e.bytesDone, bytesTotal: e.bytesTotal, rateBps: e.rateBps, etaMs: e.etaMs, reason: e.reason, updatedAt: e.at });
  }

  list(nowMs: number): TransferView[] {
    for (const [key, t] of this.live) if (nowMs - Date.parse(t.updatedAt) > STALE_MS) this.live.delete(key);
    return [...this.live.values()].sort((a, b) => a.job.localeCompare(b.job) || a.snapshot.localeCompare(b.snapshot));
  }
}
