// `brine site reclaim S --nodes N1,N2 [--grace DUR]` and `brine site release S --nodes …`: what a
// site's batch scheduler calls (from a Slurm or OAR prolog/epilog) when it takes nodes back from
// best-effort work and when it gives them back. See the README, "Preemption".
// `--ignore-unknown` (what the hooks in contrib/ pass): nodes the site does not have are left
// alone with one line on stderr instead of failing the call, so a batch job on nodes brine does
// not manage is never held back by brine. `--agent` (the hooks pass it too): when the coordinator
// cannot be reached at all, the site's own agent reclaims (suspends the VMs there, closes the
// nodes) or releases, and reports it to the coordinator once it is back.
import { status as grpcStatus } from '@grpc/grpc-js';
import { BrineError } from '../../shared/errors.js';
import { checkName } from '../../shared/names.js';
import { parseDurationMs } from '../../shared/units.js';
import type { Site } from '../../shared/proto.js';
import { checkAddress, CommandFailed, type CliContext, type Program } from '../context.js';
import { parseNodes, splitManaged } from '../node-list.js';
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
    .option('--agent <host:port>', "the site's agent: when the coordinator cannot be reached, it suspends the VMs on the nodes and closes them itself")
    .action(async (name, opts) => {
      checkName(name, 'site');
      const asked = parseNodes(opts.nodes);
      const graceMs = opts.grace === undefined ? 120_000 : parseDurationMs(opts.grace, '--grace');
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
        return reclaimWithoutCoordinator(ctx, name, asked, { agent, grace: opts.grace ?? '', graceMs, ignoreUnknown: opts.ignoreUnknown === true }, err);
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
    .option('--agent <host:port>', "the site's agent: when the coordinator cannot be reached, it opens the nodes itself")
    .action(async (name, opts) => {
      checkName(name, 'site');
      const asked = parseNodes(opts.nodes);
      const agent = opts.agent === undefined ? undefined : checkAddress(opts.agent, '--agent');
      let nodes: string[] = [];
      let res: Site;
      try {
        const target = await targetNodes(ctx, name, asked, opts.ignoreUnknown === true);
        nodes = target.nodes;
        if (nodes.length === 0) return nothingToDo(ctx, name, asked, target.site);
        res = await (await ctx.client()).releaseNodes(name, nodes);
      } catch (err) {
        if (!(agent && neverReached(err))) throw err;
        return releaseWithoutCoordinator(ctx, name, asked, agent, opts.ignoreUnknown === true, err);
      }
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

interface AgentFallback {
  agent: string;
  grace: string;
  graceMs: number;
  ignoreUnknown: boolean;
}

/**
 * The agent could not help. Unreachable too: the coordinator's error stands (exit 5), with the
 * agent's words. It answered and refused (not permitted, unknown node…): its error, its exit code.
 */
function agentFailed(err: unknown, cause: BrineError): never {
  if (err instanceof BrineError && err.code !== 'UNAVAILABLE') throw err;
  note(err instanceof Error ? err.message : String(err));
  throw cause;
}

/**
 * The coordinator is unreachable: the site's agent suspends the clusters with VMs on the nodes (a
 * durable snapshot each, then the VMs stopped), closes the nodes to new VMs, and tells the
 * coordinator when it is back. Success only once every snapshot is complete on disk; otherwise
 * exit 1 naming the jobs not saved (the nodes stay closed), and the hook's policy decides.
 */
async function reclaimWithoutCoordinator(ctx: CliContext, site: string, nodes: string[], o: AgentFallback, cause: BrineError): Promise<void> {
  const { localReclaim } = await import('../agent-client.js');
  const res = await localReclaim(o.agent, nodes, o.grace, o.graceMs, o.ignoreUnknown).catch((err: unknown) => agentFailed(err, cause));
  if (res.ignoredNodes.length) note(`ignoring ${res.ignoredNodes.join(', ')}: not node${res.ignoredNodes.length > 1 ? 's' : ''} of ${site}`);
  const reclaimed = nodes.filter((n) => !res.ignoredNodes.includes(n));
  const out = { name: site, nodes: [], preempted: res.preempted, coordinatorUnreachable: true, closedNodes: res.closedNodes, freeNodes: res.freeNodes };
  if (reclaimed.length === 0) {
    if (ctx.json) return printJson(out);
    return say(`none of ${nodes.join(', ')} is a node of ${site}: nothing to do.`);
  }
  const unsaved = res.preempted.filter((p) => !p.saved);
  if (unsaved.length) {
    throw new CommandFailed(
      'DEADLINE_EXCEEDED',
      `the coordinator is unreachable; the site's agent at ${o.agent} closed ${reclaimed.join(', ')}, but ${unsaved.map((p) => `job ${p.job} (${p.reason})`).join('; ')}: NOT saved`,
      { site: out },
    );
  }
  if (ctx.json) return printJson(out);
  if (res.preempted.length === 0) {
    return say(`the coordinator is unreachable; the site's agent at ${o.agent} runs no brine VM on ${reclaimed.join(', ')}: nothing to save; the nodes are closed to brine VMs.`);
  }
  for (const p of res.preempted) say(`job ${p.job}: ${p.reason}`);
  say(`the coordinator is unreachable; the site's agent at ${o.agent} suspended the jobs on ${reclaimed.join(', ')} (every snapshot complete on disk) and closed the nodes; the coordinator resumes the jobs once it is back.`);
}

/** The coordinator is unreachable: the site's agent opens the nodes again and tells it later. */
async function releaseWithoutCoordinator(ctx: CliContext, site: string, nodes: string[], agent: string, ignoreUnknown: boolean, cause: BrineError): Promise<void> {
  const { localRelease } = await import('../agent-client.js');
  const res = await localRelease(agent, nodes, ignoreUnknown).catch((err: unknown) => agentFailed(err, cause));
  if (res.ignoredNodes.length) note(`ignoring ${res.ignoredNodes.join(', ')}: not node${res.ignoredNodes.length > 1 ? 's' : ''} of ${site}`);
  const released = nodes.filter((n) => !res.ignoredNodes.includes(n));
  if (ctx.json) return printJson({ name: site, nodes: [], coordinatorUnreachable: true, closedNodes: res.closedNodes });
  if (released.length === 0) return say(`none of ${nodes.join(', ')} is a node of ${site}: nothing to do.`);
  say(`the coordinator is unreachable; the site's agent at ${agent} opened ${released.join(', ')} of ${site} to brine VMs again (the coordinator is told when it is back).`);
}
