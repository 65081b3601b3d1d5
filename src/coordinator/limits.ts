// Server-side limits on what callers send (issue 11, point 5): sizes of strings, the minimum
// checkpoint interval, per-user quotas. Pure functions of the request, the config and the jobs;
// the service layer calls them before the coordinator.
import { BrineError, InvalidArgumentError } from '../shared/errors.js';
import { parseDurationMs } from '../shared/units.js';
import type { JobStateName } from './job-state.js';

/** A bad value is quoted at most this long in an error message. */
export const QUOTE_MAX = 100;
/** Longer strings are refused before any other check (a 64 KB name once made a call hang). */
export const STRING_MAX = 1024;

export function quote(value: string): string {
  return value.length <= QUOTE_MAX ? value : `${value.slice(0, QUOTE_MAX)}… (${value.length} characters)`;
}

/** Every string field (top level and string arrays) of a request at most STRING_MAX long. */
export function checkSizes(req: object): void {
  for (const [field, value] of Object.entries(req)) {
    const values: unknown[] = Array.isArray(value) ? value : [value];
    if (Array.isArray(value) && value.length > STRING_MAX) throw new InvalidArgumentError(field, `at most ${STRING_MAX} entries, got ${value.length}`);
    for (const v of values) {
      if (typeof v === 'string' && v.length > STRING_MAX) throw new InvalidArgumentError(field, `at most ${STRING_MAX} characters, got "${quote(v)}"`);
    }
  }
}

export interface SubmitLimits {
  minCheckpointEveryMs: number;
  /** per user; undefined: no limit */
  maxRunningVms?: number | undefined;
  maxPendingJobs?: number | undefined;
  /** a job's cloud-init user-data (./user-data.ts); default USER_DATA_DEFAULT_MAX_KIB */
  userDataMaxBytes?: number | undefined;
}

/** A job of the user holding VMs (or about to). */
const HOLDING: ReadonlySet<JobStateName> = new Set(['DEPLOYING', 'RUNNING', 'CHECKPOINTING', 'SUSPENDING', 'RESUMING', 'RELOCATING']);

/**
 * Throws INVALID_ARGUMENT for a checkpoint interval under the minimum, RESOURCE_EXHAUSTED when the
 * owner's quota would be exceeded by this submit.
 */
export function checkSubmit(
  req: { owner: string; vms: number; checkpointEvery: string },
  jobs: ReadonlyArray<{ owner: string; state: JobStateName; vmCount: number }>,
  limits: SubmitLimits,
): void {
  if (req.checkpointEvery) {
    const ms = parseDurationMs(req.checkpointEvery, 'checkpointEvery');
    if (ms < limits.minCheckpointEveryMs) {
      throw new InvalidArgumentError('checkpointEvery', `must be at least ${limits.minCheckpointEveryMs / 1000}s, got "${quote(req.checkpointEvery)}"`);
    }
  }
  const mine = jobs.filter((j) => j.owner === req.owner);
  if (limits.maxPendingJobs !== undefined) {
    const pending = mine.filter((j) => j.state === 'PENDING').length;
    if (pending + 1 > limits.maxPendingJobs) {
      throw new BrineError('RESOURCE_EXHAUSTED', `${req.owner} has ${pending} pending jobs (quota ${limits.maxPendingJobs}): cancel some or wait until they run`);
    }
  }
  if (limits.maxRunningVms !== undefined) {
    const vms = mine.filter((j) => HOLDING.has(j.state)).reduce((n, j) => n + j.vmCount, 0);
    if (vms + req.vms > limits.maxRunningVms) {
      throw new BrineError('RESOURCE_EXHAUSTED', `${req.owner} runs ${vms} VMs (quota ${limits.maxRunningVms}): ${req.vms} more would exceed it`);
    }
  }
}
