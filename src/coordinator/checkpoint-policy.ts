// Pure: the periodic checkpoint policy. A RUNNING job is checkpointed every `checkpointEvery`
// (counted from its last snapshot or from when it last started running), one at a time per site,
// so that a site's disks and CPUs are not hit by every job's dump at once.
import { parseDurationMs } from '../shared/units.js';
import type { Snapshot } from '../shared/proto.js';
import type { JobRecord } from './store.js';

export interface CheckpointPolicyInput {
  now: number;
  jobs: Iterable<JobRecord>;
  snapshot: (id: string) => Snapshot | undefined;
  inflight: ReadonlySet<string>;
  isUp: (site: string) => boolean;
}

/** The jobs to checkpoint now, at most one per site (and none on a site with an operation under way). */
export function dueCheckpoints(i: CheckpointPolicyInput): JobRecord[] {
  const jobs = [...i.jobs];
  const busySites = new Set(jobs.filter((j) => j.pendingOp).map((j) => j.site));
  const due: JobRecord[] = [];
  for (const job of jobs) {
    if (job.state !== 'RUNNING' || i.inflight.has(job.id) || busySites.has(job.site) || !i.isUp(job.site)) continue;
    let every: number;
    try {
      every = parseDurationMs(job.checkpointEvery, 'checkpointEvery');
    } catch {
      continue; // validated at submit; a record from an older version without one is never checkpointed
    }
    const since = Math.max(
      Date.parse(i.snapshot(job.lastSnapshot)?.createdAt ?? '') || 0,
      Date.parse(job.history.findLast((h) => h.state === 'RUNNING')?.at ?? '') || 0,
    );
    if (i.now - since < every) continue;
    busySites.add(job.site);
    due.push(job);
  }
  return due;
}
