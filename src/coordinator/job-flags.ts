// What the coordinator knows of each job besides its record, in memory only: which jobs have a
// call to their agent in flight, which submissions are not acknowledged yet, and which clusters an
// operation just changed (so a stale heartbeat does not end or redeploy them).
import { NotAllowedError } from '../shared/errors.js';
import type { JobRecord } from './store.js';

export class JobFlags {
  /** jobs with a deploy, snapshot, restore or move step under way at an agent */
  readonly inflight = new Set<string>();
  /** submissions whose commit has not returned: never placed before they are acknowledged */
  readonly unacked = new Set<string>();
  /**
   * Jobs whose cluster an operation just changed (checkpoint, suspend, resume, deploy), until when:
   * a heartbeat built by the agent during the operation may arrive after it and show VMs paused,
   * off or absent; such a stale view must not end or redeploy the job.
   */
  private readonly settling = new Map<string, number>();

  settle(jobId: string, until: number): void {
    this.settling.set(jobId, until);
  }

  isSettled(jobId: string, now: number): boolean {
    return (this.settling.get(jobId) ?? 0) <= now;
  }

  /** Forgets settle marks that have expired (the liveness tick). */
  sweep(now: number): void {
    for (const [job, until] of this.settling) if (until <= now) this.settling.delete(job);
  }

  /** Throws if the job is doing something already (a deploy, or a pending operation). */
  checkIdle(job: JobRecord): void {
    if (this.inflight.has(job.id) || job.pendingOp) {
      throw new NotAllowedError(`job ${job.id} is busy (${job.pendingOp?.kind ?? 'deploying'}); try again when it is done`);
    }
  }
}
