// `brine snapshot JOB`, `brine snapshots JOB`, `brine suspend JOB`, `brine resume JOB [--site S]`:
// coordinated snapshots of a whole cluster, and suspending/resuming it from them.
import { checkName } from '../../shared/names.js';
import { formatBytes } from '../../shared/units.js';
import type { Job, Snapshot } from '../../shared/proto.js';
import { withTransferProgress } from '../transfer-progress.js';
import { CommandFailed, type CliContext, type Program } from '../context.js';
import { note, printJson, printTable, say, timeAndAge, type CellValue } from '../output.js';

export const SNAPSHOTS_HEAD = ['ID', 'CREATED', 'KIND', 'SITES', 'VMS', 'TOTAL', 'NEW', 'SKEW-MS', 'DOWNTIME-MS', 'DAMAGED'];

const bytes = (n: number): string => formatBytes(n, true);

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
      if (!ctx.json) note(`resuming job ${id}${site ? ` on ${site}` : ''}…`);
      const client = await ctx.client();
      const resume = (): Promise<Job> => client.resumeJob(id, site);
      // another site: its snapshot travels there first, with a progress bar on a TTY
      const job = site ? await withTransferProgress(client, id, site, ctx.json, resume) : await resume();
      if (site && job.site !== site) {
        const why = job.history.findLast((h) => /^move to .* failed/.test(h.reason))?.reason ?? job.history.at(-1)?.reason ?? '';
        throw new CommandFailed('MOVE_FAILED', `job ${job.id} was not resumed on ${site} and is ${job.state} on ${job.site}: ${why}`, { job });
      }
      if (ctx.json) return printJson(job);
      say(`job ${job.id} is ${job.state} on ${job.site}`);
    });
}
