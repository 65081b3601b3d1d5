// `brine site reclaim S --nodes N1,N2 [--grace DUR]` and `brine site release S --nodes …`: what a
// site's batch scheduler calls (from a Slurm or OAR prolog/epilog) when it takes nodes back from
// best-effort work and when it gives them back. See the README, "Preemption".
import { InvalidArgumentError } from '../../shared/errors.js';
import { checkName } from '../../shared/names.js';
import { parseDurationMs } from '../../shared/units.js';
import type { Site } from '../../shared/proto.js';
import { CommandFailed, type CliContext, type Program } from '../context.js';
import { note, printJson, say } from '../output.js';

/** `n1,n2` or `n1 n2` (a hostlist expanded by the batch scheduler) → names. */
export function parseNodes(text: string): string[] {
  const nodes = text.split(/[,\s]+/).filter((n) => n !== '');
  if (nodes.length === 0) throw new InvalidArgumentError('--nodes', 'give at least one node, e.g. --nodes a1,a2');
  return [...new Set(nodes.map((n) => checkName(n, '--nodes')))];
}

export function register(program: Program, ctx: CliContext): void {
  const site = program.command('site').description("operators' and batch schedulers' commands on a site's nodes");

  site
    .command('reclaim')
    .description('the batch scheduler takes nodes back: their clusters are checkpointed within the grace period, stopped, then moved')
    .argument('<site>', 'site name')
    .requiredOption('--nodes <n1,n2>', 'nodes taken back (comma-separated)')
    .option('--grace <duration>', 'how long the checkpoints may take, e.g. 2m (default: 2m)')
    .action(async (name, opts) => {
      checkName(name, 'site');
      const nodes = parseNodes(opts.nodes);
      if (opts.grace !== undefined) parseDurationMs(opts.grace, '--grace');
      if (!ctx.json) note(`reclaiming ${nodes.join(', ')} of ${name}: checkpointing their clusters…`);
      const res: Site = await (await ctx.client()).reclaimNodes(name, nodes, opts.grace ?? '');
      const unsaved = res.preempted.filter((p) => !p.saved);
      if (unsaved.length) {
        // the nodes are reclaimed all the same; the caller must know the state is not safe
        throw new CommandFailed(
          'DEADLINE_EXCEEDED',
          `nodes ${nodes.join(', ')} of ${name} are reclaimed, but ${unsaved.map((p) => `job ${p.job} (${p.reason})`).join('; ')} could not be saved within the grace period`,
          { site: res },
        );
      }
      if (ctx.json) return printJson(res);
      if (res.preempted.length === 0) return say(`nodes ${nodes.join(', ')} of ${name} reclaimed; no best-effort VM ran there.`);
      for (const p of res.preempted) say(`job ${p.job}: ${p.reason}`);
      say(`nodes ${nodes.join(', ')} of ${name} reclaimed: every snapshot is complete on disk; the jobs resume where there is room.`);
    });

  site
    .command('release')
    .description('nodes are free for best-effort work again')
    .argument('<site>', 'site name')
    .requiredOption('--nodes <n1,n2>', 'nodes given back (comma-separated)')
    .action(async (name, opts) => {
      checkName(name, 'site');
      const nodes = parseNodes(opts.nodes);
      const res = await (await ctx.client()).releaseNodes(name, nodes);
      if (ctx.json) return printJson(res);
      say(`nodes ${nodes.join(', ')} of ${name} released for best-effort work.`);
    });
}
