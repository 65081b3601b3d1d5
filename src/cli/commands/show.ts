// `brine show JOB`: one job in detail: where it runs, its addresses, its VMs and its history.
import type { Job } from '../../shared/proto.js';
import type { CliContext, Program } from '../context.js';
import { printJson, renderBlock, renderTable, say, timeAndAge } from '../output.js';
import { vmCount } from './ls.js';
import { formatBytes } from '../../shared/units.js';

export function renderJob(job: Job, now: number = Date.now()): string {
  const site = job.site || (job.pinnedSite ? `- (pinned to ${job.pinnedSite})` : '');
  const perVm = job.cpus || job.memoryMiB ? `${job.cpus} CPU${job.cpus === 1 ? '' : 's'}, ${job.memoryMiB} MiB` : '';
  const block = renderBlock([
    ['id', job.id],
    ['name', job.name],
    ['owner', job.owner],
    ['state', job.state],
    ['site', site],
    ['subnet', job.subnet],
    ['gateway', job.gateway],
    ['image', job.image],
    ['vms', vmCount(job)],
    ['per vm', perVm],
    ['checkpoint every', job.checkpointEvery],
    // the cloud-init seed's inputs (the bytes stay with the coordinator)
    ['user-data', job.userDataBytes ? formatBytes(job.userDataBytes) : '-'],
    ['meta', Object.entries(job.meta ?? {}).map(([k, v]) => `${k}=${v}`).join(' ') || '-'],
    ['network', job.egress ? 'egress (NAT)' : 'isolated'],
    ['output disk', outputText(job)],
    ['last snapshot', job.lastSnapshot],
    ['created', timeAndAge(job.createdAt, now)],
  ]);
  const parts = [block];
  if (job.vms.length > 0) {
    parts.push(
      renderTable(
        ['NAME', 'NODE', 'MAC', 'IP', 'STATE', 'CONSOLE'],
        job.vms.map((vm) => [vm.name, vm.node, vm.mac, vm.ip, vm.state, vm.console]),
      ),
    );
  }
  if (job.history.length > 0) {
    // absolute times: transitions are often seconds apart, which a relative age would blur
    parts.push(renderTable(['AT', 'STATE', 'REASON'], job.history.map((t) => [t.at, t.state, t.reason])));
  }
  return parts.join('\n\n');
}

export function register(program: Program, ctx: CliContext): void {
  program
    .command('show')
    .description('show one job: placement, addresses, VMs and history')
    .argument('<job>', 'job id')
    .action(async (id) => {
      const job = await (await ctx.client()).getJob(id);
      if (ctx.json) return printJson(job);
      say(renderJob(job));
    });
}

/** Each VM's output disk and, once the job ended, where it is kept and until when. */
function outputText(job: Job): string {
  if (!job.outputDiskMiB) return '-';
  const size = formatBytes(job.outputDiskMiB * 1024 * 1024);
  if (job.outputKeptUntil) return `${size} per VM, kept at ${job.site} until ${job.outputKeptUntil} (brine output ${job.id} -o DIR)`;
  return `${size} per VM`;
}
