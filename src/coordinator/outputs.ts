// `brine output`: the files of an ended job's output disks, streamed from the agent of the site it
// ended on (which kept them, `DestroyCluster.keepOutputForMs`) through this coordinator: the CLI
// talks only to the coordinator. The decision (may it be read now, where) is pure: `outputSource`.
import { BrineError, NotAllowedError, NotFoundError } from '../shared/errors.js';
import { isEnded } from './job-state.js';
import type { OutputChunk } from './agents.js';
import type { JobRecord } from './store.js';
import type { CoordinatorContext } from './context.js';

/** Where an ended job's output can be read now, or why not (typed, with what to do). */
export function outputSource(job: JobRecord, vm: string, now: Date): { site: string } {
  if (vm && !job.vms.some((v) => v.name === vm)) {
    throw new NotFoundError('vm', `${vm} (job ${job.id} has ${job.vms.map((v) => v.name).join(', ') || 'no VM'})`);
  }
  if (!job.outputDiskMiB) throw new BrineError('NOT_FOUND', `job ${job.id} has no output disk (submit it with --output-disk SIZE)`);
  if (!isEnded(job.state)) {
    throw new NotAllowedError(`job ${job.id} is ${job.state}: its output disks are in use; run brine output once it has ended (brine watch ${job.id})`);
  }
  if (!job.site) throw new BrineError('NOT_FOUND', `job ${job.id} ended before it ran anywhere: it has no output`);
  if (!job.outputKeptUntil) {
    throw new BrineError('NOT_FOUND', `the output of job ${job.id} was not kept: its site could not be reached when it ended`);
  }
  if (Date.parse(job.outputKeptUntil) <= now.getTime()) {
    throw new BrineError('NOT_FOUND', `the output of job ${job.id} expired at ${job.outputKeptUntil} (kept for jobs.keepEndedFor after the job ended)`);
  }
  return { site: job.site };
}

export class JobOutputs {
  constructor(private readonly ctx: Pick<CoordinatorContext, 'store' | 'agents' | 'clock'>) {}

  /** Streams the files of `job`'s output disks (one VM or all) into `write`, which may hold the stream. */
  async stream(job: JobRecord, vm: string, write: (c: OutputChunk) => Promise<void> | void, signal: AbortSignal): Promise<void> {
    const { site } = outputSource(job, vm, this.ctx.clock.now());
    const record = this.ctx.store.data.sites[site];
    if (!record) throw new BrineError('NOT_FOUND', `the output of job ${job.id} was kept at site ${site}, which is no longer in the grid`);
    const readOutput = this.ctx.agents.readOutput?.bind(this.ctx.agents);
    if (!readOutput) throw new BrineError('UNAVAILABLE', `output of ${job.id}: this coordinator's agents do not serve output disks`);
    await readOutput(record.advertise, { jobId: job.id, vm }, write, signal);
  }
}
