// `brine sites`: the grid's sites with their free capacity (or, with --nodes, one row per node).
import type { Site } from '../../shared/proto.js';
import type { CliContext, Program } from '../context.js';
import { printJson, printTable, say, type CellValue } from '../output.js';

export function sitesRows(sites: Site[]): CellValue[][] {
  return sites.map((site) => {
    const sum = (pick: (n: Site['nodes'][number]) => number): number =>
      site.nodes.reduce((total, node) => total + pick(node), 0);
    const up = site.nodes.filter((n) => n.state === 'UP').length;
    return [
      site.name,
      site.state,
      `${up}/${site.nodes.length}`,
      `${sum((n) => n.freeCpus)}/${sum((n) => n.cpus)}`,
      `${sum((n) => n.freeMemoryMiB)}/${sum((n) => n.memoryMiB)}`,
      site.subnetPool,
      site.macRange,
    ];
  });
}

export const SITES_HEAD = ['NAME', 'STATE', 'NODES(UP/ALL)', 'CPUS(FREE/ALL)', 'MEMORY-MiB(FREE/ALL)', 'POOL', 'MACS'];

export function nodesRows(sites: Site[]): CellValue[][] {
  return sites.flatMap((site) =>
    site.nodes.map((n) => [site.name, n.name, n.state, `${n.freeCpus}/${n.cpus}`, `${n.freeMemoryMiB}/${n.memoryMiB}`, n.domainType && n.arch ? `${n.domainType}/${n.arch}` : '-', n.cpuModel || '-', n.uri]),
  );
}

// GUEST: the libvirt domain type and architecture new VMs get there (a saved VM resumes only under its own)
export const NODES_HEAD = ['SITE', 'NODE', 'STATE', 'CPUS(FREE/ALL)', 'MEMORY-MiB(FREE/ALL)', 'GUEST', 'HOST-CPU', 'URI'];

export function register(program: Program, ctx: CliContext): void {
  program
    .command('sites')
    .description('list the sites and their free capacity')
    .option('--nodes', 'one row per node instead of per site')
    .action(async (opts) => {
      const sites = await (await ctx.client()).listSites();
      if (ctx.json) return printJson(sites);
      if (sites.length === 0) return say('no sites registered yet.');
      if (opts.nodes) printTable(NODES_HEAD, nodesRows(sites));
      else printTable(SITES_HEAD, sitesRows(sites));
    });
}
