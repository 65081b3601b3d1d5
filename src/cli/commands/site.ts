// `brine site reclaim S --nodes N1,N2 [--grace DUR]` and `brine site release S --nodes …`: what a
// site's batch scheduler calls (from a Slurm or OAR prolog/epilog) when it takes nodes back from
// best-effort work and when it gives them back. See the README, "Preemption".
// `--ignore-unknown` (what the hooks in contrib/ pass): nodes the site does not have are left
// alone with one line on stderr instead of failing the call, so a batch job on nodes brine does
// not manage is never held back by brine.
import { status as grpcStatus } from '@grpc/grpc-js';
import { BrineError } from '../../shared/errors.js';
import { checkName } from '../../shared/names.js';
import { parseDurationMs } from '../../shared/units.js';
import type { Site } from '../../shared/proto.js';
import { checkAddress, CommandFailed, type CliContext, type Program } from '../context.js';
import { parseNodes, splitManaged } from '../node-list.js';
import type { VmOnNode } from '../agent-status.js';
import { note, printJson, say } from '../output.js';

/** The nodes to act on: all of them, or with `ignoreUnknown` only the site's own (one note for the rest). */
async function targetNodes(ctx: CliContext, site: string, nodes: string[], ignoreUnknown: boolean): Promise<{ nodes: string[]; site?: Site }> {
  if (!ignoreUnknown) return { nodes };
  const sites = await (await ctx.client()).listSites();
  const found = sites.find((s) => s.name === site);
  if (!found) throw new BrineError('NOT_FOUND', `site ${site} is not registered with the coordinator (see brine sites)`, { field: 'site' });
  const { managed, unmanaged } = splitManaged(nodes, found.nodes.map((n) => n.name));
  if (unmanaged.length) note(`ignoring ${unmanaged.join(', ')}: not node${unmanaged.length > 1 ? 's' : ''} of ${site}`);
  return { nodes: managed, site: found };
}

export function register(program: Program, ctx: CliContext): void {
  const site = program.command('site').description("operators' and batch schedulers' commands on a site's nodes");

  site
    .command('reclaim')
    .description('the batch scheduler takes nodes back: their clusters are checkpointed within the grace period, stopped, then moved')
    .argument('<site>', 'site name')
    .requiredOption('--nodes <n1,n2>', 'nodes taken back (comma-separated)')
    .option('--grace <duration>', 'how long the checkpoints may take, e.g. 2m (default: 2m)')
    .option('--ignore-unknown', 'leave nodes the site does not have alone instead of failing (batch scheduler hooks)')
    .option('--agent <host:port>', "the site's agent: when the coordinator cannot be reached, nodes where it runs no brine VM are handed over at once")
    .action(async (name, opts) => {
      checkName(name, 'site');
      const asked = parseNodes(opts.nodes);
      if (opts.grace !== undefined) parseDurationMs(opts.grace, '--grace');
      const agent = opts.agent === undefined ? undefined : checkAddress(opts.agent, '--agent');
      let nodes: string[] = [];
      let res: Site;
      try {
        const target = await targetNodes(ctx, name, asked, opts.ignoreUnknown === true);
        nodes = target.nodes;
        if (nodes.length === 0) return nothingToDo(ctx, name, asked, target.site);
        if (!ctx.json) note(`reclaiming ${nodes.join(', ')} of ${name}: checkpointing their clusters…`);
        res = await (await ctx.client()).reclaimNodes(name, nodes, opts.grace ?? '');
      } catch (err) {
        if (!(agent && neverReached(err))) throw err;
        return reclaimWithoutCoordinator(ctx, name, asked, agent, err);
      }
      const unsaved = res.preempted.filter((p) => !p.saved);
      if (unsaved.length) {
        // the nodes are reclaimed all the same; the caller must know the state is not safe
        const held = new Set(unsaved.flatMap((p) => p.nodes));
        const free = nodes.filter((n) => !held.has(n));
        throw new CommandFailed(
          'DEADLINE_EXCEEDED',
          `nodes ${nodes.join(', ')} of ${name} are reclaimed, but ${unsaved.map((p) => `job ${p.job} on ${p.nodes.join(', ') || '?'} (${p.reason})`).join('; ')} could not be saved within the grace period: ` +
            `${[...held].sort().join(', ')} still run${held.size === 1 ? 's' : ''} unsaved VMs; ${free.length ? `${free.join(', ')} ${free.length === 1 ? 'is' : 'are'} free of brine VMs` : 'no node is free of brine VMs'}`,
          { site: res },
        );
      }
      if (ctx.json) return printJson(res);
      if (res.preempted.length === 0) return say(`nodes ${nodes.join(', ')} of ${name} reclaimed; no best-effort VM ran there.`);
      for (const p of res.preempted) say(`job ${p.job}: ${p.reason}`);
      say(`nodes ${nodes.join(', ')} of ${name} reclaimed: every snapshot is complete on disk; the jobs resume where there is room.`);
    });

  site
    .command('remove')
    .description("(admin) forget a DOWN site that no live job is placed on; its subnet pool and MAC range are free again")
    .argument('<site>', 'site name')
    .action(async (name) => {
      checkName(name, 'site');
      const res = await (await ctx.client()).removeSite(name);
      if (ctx.json) return printJson(res);
      say(`site ${name} removed: pool ${res.subnetPool} and MAC range ${res.macRange} are free.`);
    });

  site
    .command('release')
    .description('nodes are free for best-effort work again')
    .argument('<site>', 'site name')
    .requiredOption('--nodes <n1,n2>', 'nodes given back (comma-separated)')
    .option('--ignore-unknown', 'leave nodes the site does not have alone instead of failing (batch scheduler hooks)')
    .action(async (name, opts) => {
      checkName(name, 'site');
      const asked = parseNodes(opts.nodes);
      const target = await targetNodes(ctx, name, asked, opts.ignoreUnknown === true);
      const nodes = target.nodes;
      if (nodes.length === 0) return nothingToDo(ctx, name, asked, target.site);
      const res = await (await ctx.client()).releaseNodes(name, nodes);
      if (ctx.json) return printJson(res);
      say(`nodes ${nodes.join(', ')} of ${name} released for best-effort work.`);
    });
}

/**
 * The coordinator could not be reached at all (connection refused, unknown host): not a deadline
 * passed, after which a reclaim may still be under way there.
 */
function neverReached(err: unknown): err is BrineError {
  if (!(err instanceof BrineError) || err.code !== 'UNAVAILABLE') return false;
  const cause = err.cause as { code?: unknown } | undefined;
  return cause?.code === grpcStatus.UNAVAILABLE;
}

/** None of the nodes is the site's: nothing to reclaim or release, which is a success. */
function nothingToDo(ctx: CliContext, site: string, asked: string[], found: Site | undefined): void {
  if (ctx.json) return printJson(found);
  say(`none of ${asked.join(', ')} is a node of ${site}: nothing to do.`);
}

/**
 * The coordinator is unreachable: ask the site's agent what runs on the nodes. None of brine's VMs
 * there → nothing to save, a success. VMs there → they were not saved: the coordinator's error
 * stands (exit 5), naming them, and the hook's policy decides.
 */
async function reclaimWithoutCoordinator(ctx: CliContext, site: string, nodes: string[], agent: string, cause: BrineError): Promise<void> {
  const { vmsOnNodes } = await import('../agent-status.js');
  let vms: VmOnNode[];
  try {
    vms = await vmsOnNodes(agent, nodes);
  } catch (err) {
    note(err instanceof Error ? err.message : String(err));
    throw cause;
  }
  if (vms.length > 0) {
    const list = vms.map((v) => `${v.vm} of job ${v.job} on ${v.node}`).join(', ');
    throw new BrineError('UNAVAILABLE', `${cause.message}; the site's agent at ${agent} runs ${list}: NOT saved`, { cause });
  }
  if (ctx.json) return printJson({ name: site, nodes: [], preempted: [], coordinatorUnreachable: true });
  say(`the coordinator is unreachable, but the site's agent at ${agent} runs no brine VM on ${nodes.join(', ')}: nothing to save.`);
}
