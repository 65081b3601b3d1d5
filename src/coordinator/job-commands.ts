// The user's commands that create and end jobs: submit (validated against the grid, durable
// before it is acknowledged) and cancel.
import { InvalidArgumentError, NotAllowedError } from '../shared/errors.js';
import { checkName } from '../shared/names.js';
import { formatDuration, parseDurationMs } from '../shared/units.js';
import type { SubmitJobRequest__Output as SubmitJobRequest } from '../gen/brine/v1/SubmitJobRequest.js';
import { isMove } from './capacity.js';
import { seedRecord } from './user-data.js';
import { HOLDING_STATES, isEnded } from './job-state.js';
import type { JobRecord, SiteRecord } from './store.js';
import type { CoordinatorContext } from './context.js';

const MAX_VMS = 1000;
/** 1 TiB: far above any site's outputDisk.max; catches a unit slip before any site is asked */
const MAX_OUTPUT_DISK_MIB = 1024 * 1024;

interface Checked {
  site?: SiteRecord;
  checkpointEvery: string;
  checkpointEveryGiven: boolean;
}

export class JobCommands {
  constructor(
    private readonly ctx: Pick<CoordinatorContext, 'store' | 'allocator' | 'agents' | 'clock' | 'ids' | 'log' | 'events' | 'flags' | 'index' | 'grid' | 'placement' | 'teardown'>,
  ) {}

  async submit(req: SubmitJobRequest): Promise<JobRecord> {
    const { store, flags, grid } = this.ctx;
    const { site, checkpointEvery, checkpointEveryGiven } = this.validate(req);
    let id = this.ctx.ids.job();
    while (store.job(id)) id = this.ctx.ids.job();
    const now = this.ctx.clock.now();
    const record: JobRecord = {
      id,
      name: req.name,
      owner: req.owner || 'unknown',
      state: 'PENDING',
      site: '',
      pinnedSite: site?.name ?? '',
      subnet: '',
      gateway: '',
      vms: [],
      vmCount: req.vms,
      cpus: req.cpus,
      memoryMiB: req.memoryMiB,
      image: req.image,
      checkpointEvery,
      checkpointEveryGiven,
      lastSnapshot: '',
      createdAt: now.toISOString(),
      history: [{ at: now.toISOString(), state: 'PENDING', reason: `submitted by ${req.owner || 'unknown'}` }],
      deployAttempts: 0,
      ...seedRecord(req),
      ...(req.egress ? { egress: true } : {}),
      ...(req.outputDiskMiB > 0 ? { outputDiskMiB: req.outputDiskMiB } : {}),
    };
    store.data.jobs[id] = record;
    // from here on the store's own object (a tracking proxy: changes through it are journaled),
    // never `record`, whose changes the store would not see
    const job = store.data.jobs[id] ?? record;
    this.ctx.index.update(job);
    // Not placed before its submission is durable and acknowledged (so PENDING is always first).
    flags.unacked.add(id);
    try {
      await grid.commit();
    } catch (err) {
      delete store.data.jobs[id];
      this.ctx.index.remove(job);
      throw err;
    } finally {
      flags.unacked.delete(id);
    }
    this.ctx.log.info({ job: id, name: job.name, vms: job.vmCount }, 'job submitted');
    this.ctx.events.publish({ type: 'job.state', job: id, state: 'PENDING', reason: 'submitted' });
    this.ctx.placement.schedule();
    return job;
  }

  async cancel(job: JobRecord): Promise<JobRecord> {
    const { allocator, teardown } = this.ctx;
    if (isEnded(job.state)) throw new NotAllowedError(`job ${job.id} is already ${job.state}: nothing to cancel`);
    const placedAt = job.site && (HOLDING_STATES.has(job.state) || job.state === 'SUSPENDED') ? job.site : '';
    const move = isMove(job.pendingOp) ? job.pendingOp.move : undefined;
    job.pendingOp = undefined;
    job.autoResume = undefined;
    this.ctx.grid.setState(job, 'CANCELLED', 'cancelled by user');
    // its transfers stop now (issue 11 point 6); what arrived is deleted with its snapshots below
    const aborted = this.ctx.agents.abortFetches?.(job.id) ?? 0;
    if (aborted) this.ctx.log.info({ job: job.id, transfers: aborted }, 'transfers of a cancelled job aborted');
    // a job cancelled mid-move holds leases (and maybe VMs) at both ends
    const other = move ? [move.from.site, move.to.site].find((s) => s !== placedAt) : undefined;
    if (other && allocator.lease(other, job.id)) {
      allocator.markReleasing(other, job.id);
      void teardown.releaseAt(job.id, other, `${job.id}/destroy/cancel`);
    }
    await teardown.endJob(job, placedAt);
    return job;
  }

  /** Checks a submission against the grid (sites, images, node sizes); throws naming the field. */
  private validate(req: SubmitJobRequest): Checked {
    checkName(req.name, 'name');
    for (const [field, value] of [
      ['vms', req.vms],
      ['cpus', req.cpus],
      ['memoryMiB', req.memoryMiB],
    ] as const) {
      if (!Number.isInteger(value) || value <= 0) throw new InvalidArgumentError(field, `must be a positive whole number, got ${value}`);
    }
    if (req.vms > MAX_VMS) throw new InvalidArgumentError('vms', `at most ${MAX_VMS} VMs per job, got ${req.vms}`);
    if (req.owner && !/^[A-Za-z0-9._@-]{1,64}$/.test(req.owner)) {
      throw new InvalidArgumentError('owner', `"${req.owner}" is not a valid owner: use 1–64 characters from [A-Za-z0-9._@-]`);
    }
    const sites = Object.values(this.ctx.store.data.sites);
    let site: SiteRecord | undefined;
    if (req.site) {
      checkName(req.site, 'site');
      site = this.ctx.store.data.sites[req.site];
      if (!site) {
        throw new InvalidArgumentError('site', `unknown site ${req.site} (known: ${sites.map((s) => s.name).join(', ') || 'none'})`);
      }
    }
    if (!Number.isInteger(req.outputDiskMiB) || req.outputDiskMiB < 0 || req.outputDiskMiB > MAX_OUTPUT_DISK_MIB) {
      throw new InvalidArgumentError('outputDiskMiB', `must be a whole number of MiB from 0 (none) to ${MAX_OUTPUT_DISK_MIB}, got ${req.outputDiskMiB}`);
    }
    if (!req.image) throw new InvalidArgumentError('image', 'is required');
    if (sites.length === 0) {
      // A grid whose sites have not registered yet (the coordinator started first): nothing to
      // check the image, cpus and memory against, so the job waits (`no site is registered`) and
      // is checked by placement as sites join.
      return this.checkpointEveryOf(req, undefined);
    }
    const candidates = site ? [site] : sites;
    const withImage = candidates.filter((s) => s.images.includes(req.image));
    if (withImage.length === 0) {
      const known = [...new Set(candidates.flatMap((s) => s.images))].sort();
      throw new InvalidArgumentError('image', `unknown image ${req.image}${site ? ` at ${site.name}` : ''} (known: ${known.join(', ') || 'none'})`);
    }
    const offering = req.egress ? withImage.filter((s) => s.egress === true) : withImage;
    if (offering.length === 0) {
      throw new InvalidArgumentError(
        'egress',
        site
          ? `site ${site.name} does not allow egress (its agent's network.egress is none); submit without --egress, or to a site that allows it`
          : `no site with image ${req.image} allows egress (an agent's network.egress: nat); submit without --egress`,
      );
    }
    if (req.outputDiskMiB > 0) {
      const largest = Math.max(...offering.map((s) => s.maxOutputDiskMiB ?? 0));
      if (req.outputDiskMiB > largest) {
        throw new InvalidArgumentError(
          'outputDiskMiB',
          `${req.outputDiskMiB} MiB is more than ${site ? `site ${site.name}` : 'any site'} allows for an output disk (largest: ${largest} MiB, an agent's outputDisk.max)`,
        );
      }
    }
    const nodes = offering.flatMap((s) => s.nodes);
    const maxCpus = Math.max(...nodes.map((n) => n.cpus));
    const maxMem = Math.max(...nodes.map((n) => n.memoryMiB));
    if (req.cpus > maxCpus) throw new InvalidArgumentError('cpus', `${req.cpus} is more than any node has (largest: ${maxCpus} cpus)`);
    if (req.memoryMiB > maxMem) {
      throw new InvalidArgumentError('memoryMiB', `${req.memoryMiB} MiB is more than any node has (largest: ${maxMem} MiB)`);
    }
    return { ...(site ? { site } : {}), ...this.checkpointEveryOf(req, site) };
  }

  private checkpointEveryOf(req: SubmitJobRequest, site: SiteRecord | undefined): Omit<Checked, 'site'> {
    if (req.checkpointEvery) return { checkpointEvery: formatDuration(parseDurationMs(req.checkpointEvery, 'checkpointEvery')), checkpointEveryGiven: true };
    return { checkpointEvery: this.ctx.grid.defaultCheckpointEvery(site?.name ?? ''), checkpointEveryGiven: false };
  }
}
