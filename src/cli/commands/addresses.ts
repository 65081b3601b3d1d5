// `brine addresses [--site S]`: the live address leases (subnets, gateways, per-VM MAC and IP).
import { checkName } from '../../shared/names.js';
import type { Lease } from '../../shared/proto.js';
import type { CliContext, Program } from '../context.js';
import { printJson, printTable, say, type CellValue } from '../output.js';

export const LEASES_HEAD = ['SITE', 'JOB', 'VM', 'MAC', 'IP', 'SUBNET', 'STATE'];

export function leaseRow(l: Lease): CellValue[] {
  return [l.site, l.job, l.vm, l.mac, l.ip, l.subnet, l.state];
}

export function register(program: Program, ctx: CliContext): void {
  program
    .command('addresses')
    .description('list live address leases')
    .option('--site <site>', 'only this site')
    .action(async (opts) => {
      const site = opts.site === undefined ? '' : checkName(opts.site, '--site');
      const leases = await (await ctx.client()).listAddresses(site);
      if (ctx.json) return printJson(leases);
      if (leases.length === 0) return say(site ? `no leases on site ${site}.` : 'no leases.');
      printTable(LEASES_HEAD, leases.map(leaseRow));
    });
}
