// `brine cancel JOB`: stop the job's VMs and free its nodes and addresses.
import type { CliContext, Program } from '../context.js';
import { printJson, say } from '../output.js';

export function register(program: Program, ctx: CliContext): void {
  program
    .command('cancel')
    .description('cancel a job: stop its VMs, free its nodes and addresses')
    .argument('<job>', 'job id')
    .action(async (id) => {
      const job = await (await ctx.client()).cancelJob(id);
      if (ctx.json) return printJson(job);
      say(job.state === 'CANCELLED' ? `cancelled job ${job.id}` : `cancelling job ${job.id} (${job.state})`);
    });
}
