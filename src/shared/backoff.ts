// Retry delays for a step that keeps failing: the coordinator's suspend during a reclaim (issue 11
// point 6: it was retried every 0.2 s), the agent's network start while its address is still held.
// Pure: the caller owns the timer.

export interface BackoffPolicy {
  /** the first retry's delay */
  initialMs: number;
  /** never longer than this */
  maxMs: number;
  /** growth per attempt */
  factor: number;
}

export const RECLAIM_SUSPEND_BACKOFF: BackoffPolicy = { initialMs: 1_000, maxMs: 30_000, factor: 2 };

/**
 * The delay before retry number `attempt` (1 = the first retry): initial × factor^(attempt-1),
 * capped; `jitter` in [0, 1) spreads retries of many jobs (pass Math.random(), or 0 in tests) by
 * up to a fifth of the delay.
 */
export function retryDelayMs(attempt: number, policy: BackoffPolicy = RECLAIM_SUSPEND_BACKOFF, jitter = 0): number {
  const n = Math.max(1, Math.floor(attempt));
  const base = Math.min(policy.maxMs, policy.initialMs * policy.factor ** (n - 1));
  return Math.round(base * (1 - 0.2 * Math.min(Math.max(jitter, 0), 0.999)));
}
