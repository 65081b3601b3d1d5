// `brine migrate JOB --to S`: move a running or suspended job to another site (final snapshot,
// transfer agent to agent, fresh addresses at S, restore there, origin released).
import { checkName } from '../../shared/names.js';
import { CommandFailed, type CliContext, type Program } from '../context.js';
import { note, printJson, say } from '../output.js';
import { withTransferProgress } from '../transfer-progress.js';

export function register(program: Program, ctx: CliContext): void {
  program
    .command('migrate')
    .description('move a running or suspended job to another site (new subnet, MACs and IPs there)')
    .argument('<job>', 'job id')
    .requiredOption('--to <site>', 'destination site')
    .option('--no-precopy', 'a running job: no checkpoint sent ahead while it runs (shorter move, longer downtime)')
    .action(async (id, opts) => {
      const to = checkName(opts.to, '--to');
      if (!ctx.json) note(`moving job ${id} to ${to}…`);
      const client = await ctx.client();
      const job = await withTransferProgress(client, id, to, ctx.json, () => client.migrateJob(id, to, { precopy: opts.precopy }));
      if (job.site !== to) {
        // rolled back: the job is back at its origin (resuming there if it ran); a script must know
        const why = job.history.findLast((h) => /^move to .* failed/.test(h.reason))?.reason ?? job.history.at(-1)?.reason ?? '';
        throw new CommandFailed('MOVE_FAILED', `job ${job.id} was not moved to ${to} and is ${job.state} on ${job.site}: ${why}`, { job });
      }
      if (ctx.json) return printJson(job);
      say(`job ${job.id} is ${job.state} on ${job.site}, subnet ${job.subnet}: ${job.vms.map((v) => `${v.name} ${v.ip} ${v.mac}`).join(', ')}`);
    });
}
