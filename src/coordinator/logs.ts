// `brine logs`: a job's VM consoles streamed from the agent of the site the job is at (the console
// travels in every snapshot, so that one holds its whole history), and, when following, picked up
// again at the next site after each move, from where the reader was.
import { errorMessage, NotFoundError } from '../shared/errors.js';
import { isEnded } from './job-state.js';
import type { JobRecord } from './store.js';
import type { CoordinatorContext } from './context.js';

export interface LogPiece {
  vm: string;
  data: Buffer;
  site: string;
}

/** How long a follower waits for the job to run somewhere again before looking anyway. */
const RECHECK_MS = 1000;

export class JobLogs {
  constructor(private readonly ctx: Pick<CoordinatorContext, 'store' | 'agents' | 'events' | 'log' | 'timers'>) {}

  /** Streams the consoles of `job` (one VM or all) into `write` until done or `signal` aborts. */
  async stream(job: JobRecord, vm: string, follow: boolean, write: (p: LogPiece) => void, signal: AbortSignal): Promise<void> {
    const names = job.vms.map((v) => v.name);
    if (vm && !names.includes(vm)) throw new NotFoundError('vm', `${vm} (job ${job.id} has ${names.join(', ') || 'no VM yet'})`);
    const vms = vm ? [vm] : names;
    if (vms.length === 0 && !follow) return;
    await Promise.all(vms.map((name) => this.one(job.id, name, follow, write, signal)));
  }

  private async one(jobId: string, vm: string, follow: boolean, write: (p: LogPiece) => void, signal: AbortSignal): Promise<void> {
    const readConsole = this.ctx.agents.readConsole?.bind(this.ctx.agents);
    if (!readConsole) throw new NotFoundError('console', `${jobId}/${vm}: this coordinator's agents do not serve consoles`);
    let offset = 0;
    while (!signal.aborted) {
      const job = this.ctx.store.job(jobId);
      if (!job) throw new NotFoundError('job', jobId);
      const site = job.site ? this.ctx.store.data.sites[job.site] : undefined;
      let failure: unknown;
      if (site) {
        try {
          await readConsole(
            site.advertise,
            { jobId, vm, offset, follow: follow && !isEnded(job.state) },
            (c) => {
              if (c.offset < offset) {
                // the console here is shorter: a failover from an older snapshot lost the rest
                write({ vm, site: site.name, data: Buffer.from(`\n[brine: the console at ${site.name} resumes from an earlier snapshot; ${offset - c.offset} bytes printed since then were lost]\n`) });
              }
              offset = c.offset + c.data.length;
              if (c.data.length > 0) write({ vm, data: Buffer.from(c.data), site: site.name });
            },
            signal,
          );
        } catch (err) {
          failure = err;
        }
      }
      const now = this.ctx.store.job(jobId);
      if (!follow || !now || isEnded(now.state)) {
        if (failure) throw failure;
        if (!site) throw new NotFoundError('console', `${jobId}/${vm}: the job has not run on any site`);
        return;
      }
      if (failure) this.ctx.log.debug({ job: jobId, vm, err: errorMessage(failure) }, 'logs: console not readable now; waiting for the job to run again');
      await this.nextChange(jobId, signal);
    }
  }

  /** Resolves at the job's next state change (a move ended, a resume), or after a while. */
  private nextChange(jobId: string, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      let done = false;
      const finish = (): void => {
        if (done) return;
        done = true;
        unsubscribe();
        signal.removeEventListener('abort', finish);
        resolve();
      };
      const unsubscribe = this.ctx.events.subscribe((e) => {
        if (e === null || (e.job === jobId && e.type === 'job.state')) finish();
      });
      signal.addEventListener('abort', finish, { once: true });
      this.ctx.timers.setTimeout(finish, RECHECK_MS);
    });
  }
}
