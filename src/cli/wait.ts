// Waiting for a job to reach a state: the Watch stream makes it prompt, GetJob makes it right.
// Events only trigger a GetJob, so a missed or reordered event never decides the outcome; the
// periodic GetJob is the safety net (and the whole mechanism once the stream breaks).
import { BrineError } from '../shared/errors.js';
import type { Job, JobState } from '../shared/proto.js';
import type { CoordinatorClient } from './client.js';
import { CommandFailed } from './context.js';
import { formatDuration } from '../shared/units.js';

export const END_STATES: ReadonlySet<JobState> = new Set<JobState>(['COMPLETED', 'FAILED', 'CANCELLED']);

/** Poll interval while the stream is healthy (it is only a backstop then) and after it broke. */
const POLL_WITH_STREAM_MS = 5_000;
const POLL_WITHOUT_STREAM_MS = 1_000;
/** How long the subscription may take to be confirmed before the first GetJob. */
const SUBSCRIBE_GRACE_MS = 1_000;
/** Give up on a coordinator that stays away this long, even if the wait has time left. */
const UNREACHABLE_LIMIT_MS = 60_000;

export interface WaitOptions {
  /** Stop waiting when this holds. */
  until(job: Job): boolean;
  timeoutMs: number;
  /** For the timeout message: "waiting for job X <goal>". */
  goal: string;
  /** Called with each newly seen state (including the first). */
  onChange?(job: Job): void;
}

export function lastReason(job: Job): string {
  return job.history.at(-1)?.reason ?? '';
}

export async function waitForJob(client: CoordinatorClient, id: string, opts: WaitOptions): Promise<Job> {
  const deadline = Date.now() + opts.timeoutMs;
  let wake: (() => void) | undefined;
  let woken = false;
  const signal = (): void => {
    woken = true;
    wake?.();
  };
  let streaming = true;
  const stream = client.watch(id, (event) => {
    if (event.job === id) signal();
  });
  const streamGone = (): void => {
    streaming = false;
    signal();
  };
  stream.done.then(streamGone, streamGone);

  let job: Job | undefined;
  let unreachable: { since: number; error: unknown } | undefined;
  try {
    // GetJob only after the subscription is live, so no transition falls between the two
    await Promise.race([stream.subscribed, sleep(SUBSCRIBE_GRACE_MS)]);
    for (;;) {
      woken = false;
      try {
        const fresh = await client.getJob(id);
        if (fresh.state !== job?.state) opts.onChange?.(fresh);
        job = fresh;
        unreachable = undefined;
        if (opts.until(job)) return job;
      } catch (err) {
        // a coordinator restart is survivable; anything else (e.g. the job vanished) is not
        if (!(err instanceof BrineError) || err.code !== 'UNAVAILABLE') throw err;
        unreachable ??= { since: Date.now(), error: err };
        if (Date.now() - unreachable.since > UNREACHABLE_LIMIT_MS) throw err;
      }
      const remaining = deadline - Date.now();
      if (remaining <= 0) break;
      if (!woken) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.min(remaining, streaming ? POLL_WITH_STREAM_MS : POLL_WITHOUT_STREAM_MS));
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wake = undefined;
      }
    }
  } finally {
    stream.cancel();
  }
  if (unreachable) throw unreachable.error;
  const where = job ? `: it is still ${job.state}${lastReason(job) ? ` (${lastReason(job)})` : ''}` : '';
  throw new CommandFailed(
    'TIMEOUT',
    `timed out after ${formatDuration(opts.timeoutMs)} waiting for job ${id} ${opts.goal}${where}`,
    job ? { job } : undefined,
  );
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
