// Ended jobs are kept `jobs.keepEndedFor` (default 7 days) after they ended, then collected from
// the archive (issue 10.2). The decision is pure; the sweep runs on an injected timer.
import type { Logger } from '../shared/logger.js';
import type { JobRecord } from './store.js';

/** When a job ended: the time of its last history line (its end transition, or a later note). */
export function endedAt(job: Pick<JobRecord, 'history' | 'createdAt'>): number {
  const at = job.history.at(-1)?.at ?? job.createdAt;
  const t = Date.parse(at);
  return Number.isNaN(t) ? 0 : t;
}

/** The archived jobs to collect now. */
export function expired(archived: Iterable<JobRecord>, keepMs: number, now: number): string[] {
  const out: string[] = [];
  for (const j of archived) if (now - endedAt(j) > keepMs) out.push(j.id);
  return out;
}

export interface RetentionStore {
  archivedJobs(): Iterable<JobRecord>;
  forgetArchived(ids: readonly string[]): Promise<void>;
}

export interface Timers {
  setInterval(fn: () => void, ms: number): { unref(): unknown };
  clearInterval(t: { unref(): unknown }): void;
}

/** Sweeps the archive now and then every `everyMs`; returns the stop function. */
export function startRetention(store: RetentionStore, o: { keepMs: number; everyMs: number; now: () => number; log: Logger; timers?: Timers }): () => void {
  const sweep = (): void => {
    const ids = expired(store.archivedJobs(), o.keepMs, o.now());
    if (ids.length === 0) return;
    store
      .forgetArchived(ids)
      .then(() => o.log.info({ jobs: ids.length, keepEndedFor: o.keepMs }, 'ended jobs collected (jobs.keepEndedFor)'))
      .catch((err: unknown) => o.log.error({ err: (err as Error).message }, 'collecting ended jobs failed; retried at the next sweep'));
  };
  const timers: Timers = o.timers ?? { setInterval: (fn, ms) => setInterval(fn, ms), clearInterval: (t) => clearInterval(t as NodeJS.Timeout) };
  sweep();
  const t = timers.setInterval(sweep, o.everyMs);
  t.unref();
  return () => timers.clearInterval(t);
}
