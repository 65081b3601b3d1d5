// `brine snapshot JOB`, `brine snapshots JOB`, `brine suspend JOB`, `brine resume JOB [--site S]`:
// coordinated snapshots of a whole cluster, and suspending/resuming it from them.
import { checkName } from '../../shared/names.js';
import type { Snapshot } from '../../shared/proto.js';
import type { CliContext, Program } from '../context.js';
import { note, printJson, printTable, say, timeAndAge, type CellValue } from '../output.js';

export const SNAPSHOTS_HEAD = ['ID', 'CREATED', 'KIND', 'SITES', 'VMS', 'TOTAL', 'NEW', 'SKEW-MS', 'DOWNTIME-MS', 'DAMAGED'];

export function bytes(n: number): string {
  if (n >= 1 << 30) return `${(n / (1 << 30)).toFixed(1)}GiB`;
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(1)}MiB`;
  if (n >= 1 << 10) return `${(n / (1 << 10)).toFixed(1)}KiB`;
  return `${n}B`;
}

export function snapshotRow(s: Snapshot, now = Date.now()): CellValue[] {
  return [s.id, timeAndAge(s.createdAt, now), s.kind, s.sites.join(','), s.vms.length, bytes(s.totalBytes), bytes(s.newBytes), s.pauseSkewMs, s.downtimeMs, s.damaged ? 'yes' : 'no'];
}

export function register(program: Program, ctx: CliContext): void {
  program
    .command('snapshot')
    .description('take a coordinated snapshot of a running job now (all its VMs at one instant)')
    .argument('<job>', 'job id')
    .action(async (id) => {
      if (!ctx.json) note(`snapshotting job ${id}: pausing its VMs and capturing memory and disks…`);
      const snap = await (await ctx.client()).snapshotJob(id);
      if (ctx.json) return printJson(snap);
      say(`snapshot ${snap.id} of job ${snap.job}: ${bytes(snap.totalBytes)} (${bytes(snap.newBytes)} new), downtime ${snap.downtimeMs} ms, pause skew ${snap.pauseSkewMs} ms`);
    });

  program
    .command('snapshots')
    .description("list a job's snapshots")
    .argument('<job>', 'job id')
    .action(async (id) => {
      const snaps = await (await ctx.client()).listSnapshots(id);
      if (ctx.json) return printJson(snaps);
      if (snaps.length === 0) return say(`job ${id} has no snapshots.`);
      printTable(SNAPSHOTS_HEAD, snaps.map((s) => snapshotRow(s)));
    });

  program
    .command('suspend')
    .description('take a final snapshot, then stop the VMs and free their nodes (addresses are kept)')
    .argument('<job>', 'job id')
    .action(async (id) => {
      if (!ctx.json) note(`suspending job ${id}: final snapshot…`);
      const job = await (await ctx.client()).suspendJob(id);
      if (ctx.json) return printJson(job);
      say(`job ${job.id} is ${job.state} (snapshot ${job.lastSnapshot || '-'})`);
    });

  program
    .command('resume')
    .description('recreate a suspended job from its latest snapshot')
    .argument('<job>', 'job id')
    .option('--site <site>', 'the site to resume on (default: where it was suspended)')
    .action(async (id, opts) => {
      const site = opts.site === undefined ? '' : checkName(opts.site, '--site');
      if (!ctx.json) note(`resuming job ${id}…`);
      const job = await (await ctx.client()).resumeJob(id, site);
      if (ctx.json) return printJson(job);
      say(`job ${job.id} is ${job.state} on ${job.site}`);
    });
}
