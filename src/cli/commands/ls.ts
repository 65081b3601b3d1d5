// `brine ls`: all jobs, newest last.
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
    .description('list jobs')
    .action(async () => {
      const jobs = await (await ctx.client()).listJobs();
      if (ctx.json) return printJson(jobs);
      if (jobs.length === 0) return say('no jobs.');
      const now = Date.now();
      printTable(JOBS_HEAD, jobs.map((job) => jobRow(job, now)));
    });
}
