// `brine submit`: validate locally (nothing is sent on bad input), queue the job, optionally wait
// until it runs or ends.
import { BrineError, InvalidArgumentError } from '../../shared/errors.js';
import { checkName } from '../../shared/names.js';
import { readUserData } from '../user-data-file.js';
import { parseMetaFlags } from '../../shared/seed-input.js';
import type { Job } from '../../shared/proto.js';
import { formatDuration, parseDurationMs, parseSizeMiB } from '../../shared/units.js';
import type { SubmitJobRequest } from '../../gen/brine/v1/SubmitJobRequest.js';
import { CommandFailed, parsePositiveInt, type CliContext, type Program } from '../context.js';
import { note, printJson, say } from '../output.js';
import { END_STATES, lastReason, waitForJob } from '../wait.js';

const DEFAULT_WAIT = '10m';

/** Request field → the flag that sets it, so coordinator-side validation errors name the flag. */
const FLAG_OF: Record<string, string> = {
  name: '--name',
  vms: '--vms',
  cpus: '--cpus',
  memoryMiB: '--memory',
  image: '--image',
  site: '--site',
  checkpointEvery: '--checkpoint-every',
  owner: '--owner',
  userData: '--user-data',
  meta: '--meta',
  egress: '--egress',
  outputDiskMiB: '--output-disk',
};

export interface SubmitFlags {
  name: string;
  vms: string;
  cpus: string;
  memory: string;
  image: string;
  site?: string | undefined;
  checkpointEvery?: string | undefined;
  owner?: string | undefined;
  userData?: string | undefined;
  meta?: string[] | undefined;
  egress?: true | undefined;
  outputDisk?: string | undefined;
  wait?: true | undefined;
  timeout?: string | undefined;
}

/** Local validation: throws InvalidArgumentError naming the flag; returns the request. */
export function buildRequest(flags: SubmitFlags): { request: SubmitJobRequest; timeoutMs: number } {
  const name = checkName(flags.name, '--name');
  const vms = parsePositiveInt(flags.vms, '--vms');
  const cpus = parsePositiveInt(flags.cpus, '--cpus');
  const memoryMiB = parseSizeMiB(flags.memory, '--memory');
  if (memoryMiB > 2 ** 31 - 1) throw new InvalidArgumentError('--memory', `is too large: ${flags.memory}`);
  const image = checkName(flags.image, '--image');
  const site = flags.site === undefined ? '' : checkName(flags.site, '--site');
  const checkpointEvery =
    flags.checkpointEvery === undefined ? '' : formatDuration(parseDurationMs(flags.checkpointEvery, '--checkpoint-every'));
  if (flags.timeout !== undefined && !flags.wait) throw new InvalidArgumentError('--timeout', 'only makes sense with --wait');
  const timeoutMs = parseDurationMs(flags.timeout ?? DEFAULT_WAIT, '--timeout');
  // the owner is the identity of the CLI's certificate (the coordinator decides); an admin may
  // submit on behalf of someone with --owner
  const owner = (flags.owner ?? '').trim();
  if (flags.owner !== undefined && owner === '') throw new InvalidArgumentError('--owner', 'must not be empty');
  // read here, so a missing, unreadable or oversized file stops the command before anything is sent
  const userData = flags.userData === undefined ? Buffer.alloc(0) : readUserData(flags.userData, '--user-data');
  const meta = parseMetaFlags(flags.meta ?? [], '--meta');
  const egress = flags.egress === true;
  const outputDiskMiB = flags.outputDisk === undefined ? 0 : parseSizeMiB(flags.outputDisk, '--output-disk');
  if (outputDiskMiB > 2 ** 31 - 1) throw new InvalidArgumentError('--output-disk', `is too large: ${flags.outputDisk}`);
  return { request: { name, vms, cpus, memoryMiB, image, site, checkpointEvery, owner, userData, meta, egress, outputDiskMiB }, timeoutMs };
}

function withFlagNames(err: unknown): unknown {
  if (!(err instanceof BrineError) || err.code !== 'INVALID_ARGUMENT' || !err.field) return err;
  // `meta.KEY` (a bad value of one key) is the --meta flag too
  const field = err.field.startsWith('meta.') ? 'meta' : err.field;
  const flag = FLAG_OF[field];
  if (!flag) return err;
  const key = field === err.field ? '' : ` ${err.field.slice('meta.'.length)}`;
  const message = err.message.startsWith(`${err.field}:`) ? `${flag}${key}${err.message.slice(err.field.length)}` : err.message;
  return new BrineError('INVALID_ARGUMENT', message, { field: flag, cause: err });
}

function describe(job: Job): string {
  const where = job.site ? ` on ${job.site}` : '';
  const reason = lastReason(job);
  return `job ${job.id} is ${job.state}${where}${reason ? ` (${reason})` : ''}`;
}

export function register(program: Program, ctx: CliContext): void {
  program
    .command('submit')
    .description('queue a job: K identical VMs on one site')
    .requiredOption('--name <name>', 'job name ([a-z0-9-], 1–32 characters)')
    .requiredOption('--vms <k>', 'number of VMs')
    .requiredOption('--cpus <c>', 'vCPUs per VM')
    .requiredOption('--memory <size>', 'memory per VM: MiB, or 512MiB, 2GiB')
    .requiredOption('--image <image>', 'image name, as declared by the sites')
    .option('--site <site>', 'pin the job to this site (default: any site with room)')
    .option('--checkpoint-every <duration>', "periodic snapshot interval, e.g. 10m (default: the site's)")
    .option('--owner <owner>', 'owner (admins only; default: the name in your certificate)')
    .option('--user-data <file>', "cloud-init user-data for every VM (NoCloud seed), e.g. a '#!' script; at most the coordinator's limit (default 64 KiB)")
    .option('--meta <key=value>', 'an extra key of every VM\'s cloud-init meta-data (repeatable)', (v: string, all: string[]) => [...all, v], [] as string[])
    .option('--egress', "let the VMs reach outside networks through NAT (only on sites whose network.egress is nat; default: an isolated network)")
    .option('--output-disk <size>', "give each VM an output disk of this size (ext4, labelled brine-output; the test guest mounts it at /output), copied out after the job ends with brine output")
    .option('--wait', 'wait until the job runs or ends; exit 1 if it fails or is cancelled')
    .option('--timeout <duration>', `with --wait: give up after this long (default ${DEFAULT_WAIT})`)
    .action(async (flags) => {
      const { request, timeoutMs } = buildRequest(flags);
      const client = await ctx.client();
      let job: Job;
      try {
        job = await client.submitJob(request);
      } catch (err) {
        throw withFlagNames(err);
      }
      if (!flags.wait) {
        if (ctx.json) return printJson(job);
        return say(`submitted job ${job.id} (${job.state})`);
      }
      if (!ctx.json) say(`submitted job ${job.id} (${job.state})`);

      // interrupting the wait does not cancel the job: say so, since the user may think it does
      const interrupted = (): void => {
        note(`brine: stopped waiting; job ${job.id} is still queued (brine cancel ${job.id} to stop it)`);
        process.exit(130);
      };
      process.once('SIGINT', interrupted);
      try {
        let seen = job.state;
        job = await waitForJob(client, job.id, {
          until: (j) => j.state === 'RUNNING' || END_STATES.has(j.state),
          timeoutMs,
          goal: 'to run',
          onChange: (j) => {
            if (!ctx.json && j.state !== seen && j.state !== 'RUNNING' && !END_STATES.has(j.state)) say(describe(j));
            seen = j.state;
          },
        });
      } finally {
        process.off('SIGINT', interrupted);
      }
      if (job.state === 'FAILED' || job.state === 'CANCELLED') {
        const reason = lastReason(job);
        throw new CommandFailed(
          job.state === 'FAILED' ? 'JOB_FAILED' : 'JOB_CANCELLED',
          `job ${job.id} ${job.state}${reason ? `: ${reason}` : ''}`,
          { job },
        );
      }
      if (ctx.json) return printJson(job);
      say(describe(job));
    });
}
