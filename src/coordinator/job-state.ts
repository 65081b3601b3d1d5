// The job state machine (DESIGN.md "Job states"), pure: which transitions are legal, and the
// record of each one in the job's history.
import { NotAllowedError } from '../shared/errors.js';
import type { JobState } from '../shared/proto.js';
import { compactHistory } from './history.js';

export type JobStateName = Exclude<JobState, 'JOB_STATE_UNSPECIFIED'>;

export const END_STATES: ReadonlySet<JobStateName> = new Set(['COMPLETED', 'FAILED', 'CANCELLED']);

/** States in which a job holds nodes (cpus, memory) at its site. */
export const HOLDING_STATES: ReadonlySet<JobStateName> = new Set([
  'DEPLOYING',
  'RUNNING',
  'CHECKPOINTING',
  'SUSPENDING',
  'RESUMING',
  'RELOCATING',
]);

const NEXT: Record<JobStateName, readonly JobStateName[]> = {
  PENDING: ['DEPLOYING', 'CANCELLED', 'FAILED'],
  DEPLOYING: ['RUNNING', 'PENDING', 'FAILED', 'CANCELLED', 'COMPLETED'],
  RUNNING: ['CHECKPOINTING', 'SUSPENDING', 'RELOCATING', 'COMPLETED', 'FAILED', 'CANCELLED', 'DEPLOYING'],
  CHECKPOINTING: ['RUNNING', 'SUSPENDING', 'RELOCATING', 'COMPLETED', 'FAILED', 'CANCELLED'],
  SUSPENDING: ['SUSPENDED', 'RUNNING', 'FAILED', 'CANCELLED'],
  SUSPENDED: ['RESUMING', 'RELOCATING', 'CANCELLED', 'FAILED'],
  RESUMING: ['RUNNING', 'SUSPENDED', 'FAILED', 'CANCELLED'],
  RELOCATING: ['RESUMING', 'RUNNING', 'SUSPENDED', 'FAILED', 'CANCELLED'],
  COMPLETED: [],
  FAILED: [],
  CANCELLED: [],
};

export function isEnded(state: JobStateName): boolean {
  return END_STATES.has(state);
}

export function canTransition(from: JobStateName, to: JobStateName): boolean {
  return NEXT[from].includes(to);
}

export interface HistoryEntry {
  at: string;
  state: JobStateName;
  reason: string;
}

export interface Transitionable {
  id: string;
  state: JobStateName;
  history: HistoryEntry[];
}

/** Moves `job` to `to`, recording why; throws NotAllowedError for an illegal move. */
export function transition<J extends Transitionable>(job: J, to: JobStateName, reason: string, now: Date): J {
  if (!canTransition(job.state, to)) {
    throw new NotAllowedError(`job ${job.id} is ${job.state}: cannot go to ${to}`);
  }
  job.state = to;
  job.history.push({ at: now.toISOString(), state: to, reason });
  bound(job);
  return job;
}

/** Keeps the history bounded (./history.ts), in place. */
function bound(job: Transitionable): void {
  const compacted = compactHistory(job.history);
  if (compacted) job.history.splice(0, job.history.length, ...compacted);
}

/** Records a new reason for staying in the same state (e.g. why a job still waits), once per change. */
export function noteReason<J extends Transitionable>(job: J, reason: string, now: Date): boolean {
  const last = job.history[job.history.length - 1];
  if (last && last.state === job.state && last.reason === reason) return false;
  job.history.push({ at: now.toISOString(), state: job.state, reason });
  bound(job);
  return true;
}
