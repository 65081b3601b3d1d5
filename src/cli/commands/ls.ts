// `brine ls`: live jobs by default (paged from the coordinator), newest last; `--all` adds the
// ended ones still kept, `--state` and `--since` filter (checked by the coordinator too).
import type { Job } from '../../shared/proto.js';
import type { CliContext, Program } from '../context.js';
import { age, printJson, printTable, say, type CellValue } from '../output.js';

export const JOBS_HEAD = ['ID', 'NAME', 'OWNER', 'STATE', 'SITE', 'VMS', 'SUBNET', 'AGE'];

export function jobRow(job: Job, now: number = Date.now()): CellValue[] {
  return [job.id, job.name, job.owner, job.state, job.site, vmCount(job), job.subnet, age(job.createdAt, now)];
}

/** Requested size; the VM list is empty until the job is placed. */
export function vmCount(job: Job): number {
  return job.vmCount || job.vms.length;
}

export function register(program: Program, ctx: CliContext): void {
  program
    .command('ls')
    .description('list jobs: live ones by default')
    .option('--all', 'ended jobs too (those kept for jobs.keepEndedFor)')
    .option('--state <states>', 'only jobs in these states, comma-separated (e.g. RUNNING,PENDING; an end state includes ended jobs)')
    .option('--since <duration>', 'only jobs created within this long, e.g. 1h, 2d')
    .action(async (opts: { all?: boolean; state?: string; since?: string }) => {
      const states = opts.state ? opts.state.split(',').map((s) => s.trim().toUpperCase()).filter(Boolean) : [];
      const jobs = await (await ctx.client()).listJobs({ all: opts.all === true, states, since: opts.since ?? '' });
      if (ctx.json) return printJson(jobs);
      if (jobs.length === 0) return say(opts.all || states.length || opts.since ? 'no jobs match.' : 'no live jobs (`brine ls --all` shows ended ones too).');
      const now = Date.now();
      printTable(JOBS_HEAD, jobs.map((job) => jobRow(job, now)));
    });
}
