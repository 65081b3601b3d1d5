// The grid's brain: job queue, placement, the job state machine, address leases and the
// registry of sites, orchestrating the agents. All state changes happen here, on the event loop,
// and are group-committed to the store before they are acknowledged.
import { randomBytes } from 'node:crypto';
import type { Logger } from '../shared/logger.js';
import { AlreadyExistsError, BrineError, InvalidArgumentError, NotAllowedError, NotFoundError, UnavailableError } from '../shared/errors.js';
import { checkName } from '../shared/names.js';
import { formatBytes, formatDuration, formatEta, parseDurationMs } from '../shared/units.js';
import type { ClusterSpec, ClusterStatus, Job, Lease, Site, Snapshot } from '../shared/proto.js';
import type { RegisterRequest__Output as RegisterRequest } from '../gen/brine/v1/RegisterRequest.js';
import type { SubmitJobRequest__Output as SubmitJobRequest } from '../gen/brine/v1/SubmitJobRequest.js';
import type { AgentGateway, SnapshotKind } from './agents.js';
import { AddressAllocator } from './address-allocator.js';
import type { CoordinatorConfig } from './config.js';
import { EventBus } from './events.js';
import { HOLDING_STATES, isEnded, noteReason, transition, type JobStateName } from './job-state.js';
import { consume, fitOnSite, pendingReason, rankSites, type GuestNeed, type PlacementRequest, type SiteCapacity } from './scheduler.js';
import type { JobRecord, MoveState, PendingOp, Placement, SiteRecord, Store } from './store.js';
import { clonePlain } from './tracked.js';
import type { PreemptedJob__Output as PreemptedJob } from '../gen/brine/v1/PreemptedJob.js';

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

export function randomSnapshotId(): string {
  return 's' + BigInt('0x' + randomBytes(6).toString('hex')).toString(36).padStart(10, '0');
}

export function randomJobId(): string {
  // 40 random bits in base32-ish lowercase: short enough for domain names, never reused in practice.
  return 'j' + BigInt('0x' + randomBytes(5).toString('hex')).toString(36).padStart(8, '0');
}

interface Session {
  id: string;
  instance: string;
  lastHeartbeat: number;
}

export interface CoordinatorDeps {
  config: CoordinatorConfig;
  store: Store;
  agents: AgentGateway;
  log: Logger;
  clock?: Clock;
  newJobId?: () => string;
}

const MAX_VMS = 1000;

/** How long a reclaim waits for the final snapshots when the caller gives no `--grace`. */
const DEFAULT_GRACE_MS = 120_000;

type MoveOp = PendingOp & { kind: 'move'; move: MoveState };

function isMove(op: PendingOp | undefined): op is MoveOp {
  return op?.kind === 'move' && op.move !== undefined;
}

/** A resume or move of `job`: room for its VMs on nodes that run the guest types they were saved as. */
function restoreRequest(job: JobRecord): PlacementRequest {
  return { vms: job.vmCount, cpus: job.cpus, memoryMiB: job.memoryMiB, image: job.image, ...(job.needs ? { needs: job.needs } : {}) };
}

/** The guest types new VMs get on these nodes of `site` (none known: an agent that does not say). */
function guestNeeds(site: SiteRecord | undefined, nodes: readonly string[]): GuestNeed[] | undefined {
  const out = new Map<string, GuestNeed>();
  for (const name of nodes) {
    const n = site?.nodes.find((x) => x.name === name);
    if (!n?.arch || !n.domainType) return undefined;
    out.set(`${n.domainType}/${n.arch}`, { arch: n.arch, domainType: n.domainType });
  }
  return [...out.values()];
}

/** Stored or sent snapshot data that is not what its hashes say (or is gone): that copy is damaged. */
function isDataLoss(err: unknown): boolean {
  return err instanceof BrineError && err.code === 'DATA_LOSS';
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export class Coordinator {
  readonly events = new EventBus();
  private readonly sessions = new Map<string, Session>();
  private allocator: AddressAllocator;
  private readonly clock: Clock;
  private readonly newJobId: () => string;
  private readonly inflight = new Set<string>();
  /** the run of each job's pending operation under way (`runOp`) */
  private readonly opRuns = new Map<string, Promise<void>>();
  /** when each registered site was last seen going DOWN (or this coordinator started without it) */
  private readonly downSince = new Map<string, number>();
  private readonly unacked = new Set<string>();
  /**
   * Jobs whose cluster an operation just changed (checkpoint, suspend, resume, deploy), until when:
   * a heartbeat built by the agent during the operation may arrive after it and show VMs paused,
   * off or absent; such a stale view must not end or redeploy the job.
   */
  private readonly settling = new Map<string, number>();
  private placing = false;
  private placeAgain = false;
  private livenessTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly deps: CoordinatorDeps) {
    this.clock = deps.clock ?? systemClock;
    this.newJobId = deps.newJobId ?? randomJobId;
    const data = deps.store.data;
    this.allocator = AddressAllocator.restore(
      Object.values(data.sites).map((s) => ({ site: s.name, pool: s.subnetPool, macRange: s.macRange })),
      data.leases,
    );
  }

  private get log(): Logger {
    return this.deps.log;
  }

  private get store(): Store {
    return this.deps.store;
  }

  start(): void {
    // a restarted coordinator has seen no site yet: the failover clock starts now, not at their last heartbeat
    for (const site of Object.keys(this.store.data.sites)) if (!this.sessions.has(site)) this.downSince.set(site, this.clock.now().getTime());
    const every = Math.max(100, Math.min(1000, this.deps.config.heartbeatTimeout / 4));
    this.livenessTimer = setInterval(() => this.tick(), every);
    this.livenessTimer.unref();
    this.schedulePlacement();
  }

  stop(): void {
    this.stopped = true;
    this.events.closeAll();
    if (this.livenessTimer) clearInterval(this.livenessTimer);
  }

  // ---------------------------------------------------------------- persistence

  /** Writes the allocator's leases into the store and commits. */
  private async commit(): Promise<void> {
    this.store.data.leases = this.allocator.exportLeases();
    await this.store.commit();
  }

  // ---------------------------------------------------------------- jobs

  jobs(): JobRecord[] {
    return [...Object.values(this.store.archived), ...Object.values(this.store.data.jobs)].sort((a, b) =>
      a.createdAt === b.createdAt ? a.id.localeCompare(b.id) : a.createdAt.localeCompare(b.createdAt),
    );
  }

  job(id: string): JobRecord {
    const job = id ? this.store.job(id) : undefined;
    if (!job) throw new NotFoundError('job', id || '(empty id)');
    return job;
  }

  private validateSubmit(req: SubmitJobRequest): { site?: SiteRecord; checkpointEvery: string; checkpointEveryGiven: boolean } {
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
    const sites = Object.values(this.store.data.sites);
    let site: SiteRecord | undefined;
    if (req.site) {
      checkName(req.site, 'site');
      site = this.store.data.sites[req.site];
      if (!site) {
        throw new InvalidArgumentError('site', `unknown site ${req.site} (known: ${sites.map((s) => s.name).join(', ') || 'none'})`);
      }
    }
    if (!req.image) throw new InvalidArgumentError('image', 'is required');
    if (sites.length === 0) {
      // A grid whose sites have not registered yet (the coordinator started first): nothing to
      // check the image, cpus and memory against, so the job waits (`no site is registered`) and
      // is checked by placement as sites join.
      return this.checkpointEveryOf(req, undefined);
    }
    const candidates = site ? [site] : sites;
    const offering = candidates.filter((s) => s.images.includes(req.image));
    if (offering.length === 0) {
      const known = [...new Set(candidates.flatMap((s) => s.images))].sort();
      throw new InvalidArgumentError(
        'image',
        `unknown image ${req.image}${site ? ` at ${site.name}` : ''} (known: ${known.join(', ') || 'none'})`,
      );
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

  private checkpointEveryOf(req: SubmitJobRequest, site: SiteRecord | undefined): { checkpointEvery: string; checkpointEveryGiven: boolean } {
    if (req.checkpointEvery) return { checkpointEvery: formatDuration(parseDurationMs(req.checkpointEvery, 'checkpointEvery')), checkpointEveryGiven: true };
    return { checkpointEvery: this.defaultCheckpointEvery(site?.name ?? ''), checkpointEveryGiven: false };
  }

  /** The snapshot interval of a job that gave none: its site's `snapshots.every`, else the coordinator's. */
  private defaultCheckpointEvery(site: string): string {
    return this.store.data.sites[site]?.defaultCheckpointEvery || formatDuration(this.deps.config.jobs.checkpointEvery);
  }

  async submit(req: SubmitJobRequest): Promise<JobRecord> {
    const { site, checkpointEvery, checkpointEveryGiven } = this.validateSubmit(req);
    let id = this.newJobId();
    while (this.store.job(id)) id = this.newJobId();
    const now = this.clock.now();
    const job: JobRecord = {
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
    };
    this.store.data.jobs[id] = job;
    // Not placed before its submission is durable and acknowledged (so PENDING is always first).
    this.unacked.add(id);
    try {
      await this.commit();
    } catch (err) {
      delete this.store.data.jobs[id];
      throw err;
    } finally {
      this.unacked.delete(id);
    }
    this.log.info({ job: id, name: job.name, vms: job.vmCount }, 'job submitted');
    this.events.publish({ type: 'job.state', job: id, state: 'PENDING', reason: 'submitted' });
    this.schedulePlacement();
    return job;
  }

  async cancel(id: string): Promise<JobRecord> {
    const job = this.job(id);
    if (isEnded(job.state)) throw new NotAllowedError(`job ${id} is already ${job.state}: nothing to cancel`);
    const placedAt = job.site && (HOLDING_STATES.has(job.state) || job.state === 'SUSPENDED') ? job.site : '';
    const move = isMove(job.pendingOp) ? job.pendingOp.move : undefined;
    job.pendingOp = undefined;
    job.autoResume = undefined;
    this.setState(job, 'CANCELLED', 'cancelled by user');
    // a job cancelled mid-move holds leases (and maybe VMs) at both ends
    const other = move ? [move.from.site, move.to.site].find((s) => s !== placedAt) : undefined;
    if (other && this.allocator.lease(other, job.id)) {
      this.allocator.markReleasing(other, job.id);
      void this.releaseAt(job.id, other, `${job.id}/destroy/cancel`);
    }
    await this.endJob(job, placedAt);
    return job;
  }

  private setState(job: JobRecord, to: JobStateName, reason: string): void {
    transition(job, to, reason, this.clock.now());
    // placed, moved or resumed elsewhere: the default interval is the new site's
    if (job.checkpointEveryGiven === false && job.site) job.checkpointEvery = this.defaultCheckpointEvery(job.site);
    this.log.info({ job: job.id, site: job.site || undefined, state: to, reason }, 'job state');
    this.events.publish({ type: 'job.state', job: job.id, site: job.site, state: to, reason });
  }

  /**
   * After a job reached an end state: its addresses go to `releasing`, its VMs are destroyed at the
   * site, then the leases are freed. If the agent cannot be reached, the leases stay `releasing`
   * until a heartbeat from the site shows the cluster gone (the agent fences what is not placed).
   */
  private async endJob(job: JobRecord, site: string): Promise<void> {
    for (const vm of job.vms) if (vm.state !== 'SHUTOFF') vm.state = 'STOPPING';
    if (site) this.allocator.markReleasing(site, job.id);
    await this.commit();
    this.schedulePlacement();
    if (site) await this.destroyAt(job, site);
    await this.dropSnapshots(job);
    if (!this.allocator.leases(site).some((l) => l.job === job.id)) await this.store.archiveJob(job.id);
  }

  private async destroyAt(job: JobRecord, site: string): Promise<void> {
    const record = this.store.data.sites[site];
    if (!record) return;
    try {
      await this.deps.agents.destroy(record.advertise, `${job.id}/destroy`, job.id);
      this.allocator.release(site, job.id);
      for (const vm of job.vms) vm.state = 'DESTROYED';
      await this.commit();
      this.schedulePlacement(); // its subnet and MACs are free now
    } catch (err) {
      this.log.warn({ job: job.id, site, err: (err as Error).message }, 'destroy failed; leases stay releasing until the site confirms');
    }
  }

  // ---------------------------------------------------------------- placement

  /** Runs a placement pass soon; passes never overlap, and a request during one causes another. */
  schedulePlacement(): void {
    if (this.stopped) return;
    if (this.placing) {
      this.placeAgain = true;
      return;
    }
    this.placing = true;
    setImmediate(() => {
      this.placePending()
        .catch((err: unknown) => this.log.error({ err: (err as Error).message }, 'placement pass failed'))
        .finally(() => {
          this.placing = false;
          if (this.placeAgain) {
            this.placeAgain = false;
            this.schedulePlacement();
          }
        });
    });
  }

  private capacities(): Map<string, SiteCapacity> {
    const caps = new Map<string, SiteCapacity>();
    for (const site of Object.values(this.store.data.sites)) {
      caps.set(site.name, {
        name: site.name,
        up: this.isUp(site.name),
        images: site.images,
        nodes: site.nodes.map((n) => ({
          name: n.name,
          cpus: n.cpus,
          memoryMiB: n.memoryMiB,
          usedCpus: 0,
          usedMemoryMiB: 0,
          schedulable: !site.reclaimedNodes.includes(n.name),
          arch: n.arch,
          domainTypes: n.domainTypes,
        })),
      });
    }
    for (const job of Object.values(this.store.data.jobs)) {
      if (isMove(job.pendingOp)) {
        // a move holds the destination's nodes from the start, and the origin's only until its
        // final snapshot stopped the VMs there
        const m = job.pendingOp.move;
        const holds: Placement[] = m.phase === 'rollback' ? [] : [m.to];
        if ((m.phase === 'precopy' || m.phase === 'snapshot') && m.wasRunning) holds.push(m.from);
        for (const p of holds) {
          const cap = caps.get(p.site);
          if (cap) consume(cap, p.vms.map((v) => v.node), job);
        }
        continue;
      }
      if (!HOLDING_STATES.has(job.state) || !job.site) continue;
      const cap = caps.get(job.site);
      if (cap) consume(cap, job.vms.map((v) => v.node), job);
    }
    return caps;
  }

  private async placePending(): Promise<void> {
    const pending = Object.values(this.store.data.jobs)
      .filter((j) => j.state === 'PENDING' && !this.unacked.has(j.id))
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
    const waiting = Object.values(this.store.data.jobs).filter((j) => j.state === 'SUSPENDED' && j.autoResume && !j.pendingOp && !this.inflight.has(j.id));
    if (pending.length === 0 && waiting.length === 0) return;
    const caps = this.capacities();
    // preempted jobs first: they ran already, and a resume costs less than a first deploy waits
    if (await this.placeSuspended(waiting, caps)) await this.commit();
    const toDeploy: JobRecord[] = [];
    let changed = false;
    for (const job of pending) {
      const req = { vms: job.vmCount, cpus: job.cpus, memoryMiB: job.memoryMiB, image: job.image, ...(job.pinnedSite ? { site: job.pinnedSite } : {}) };
      const { fits, misses } = rankSites(caps.values(), req);
      let placed = false;
      const reasons = [...misses];
      for (const fit of fits) {
        const vmNames = Array.from({ length: job.vmCount }, (_, i) => `${job.name}-${i}`);
        const lease = this.allocator.reserve(fit.site, job.id, vmNames);
        if (!lease.ok) {
          reasons.push({ ok: false, site: fit.site, reason: lease.reason });
          continue;
        }
        job.site = fit.site;
        job.subnet = lease.lease.subnet;
        job.gateway = lease.lease.gateway;
        job.vms = lease.lease.vms.map((v, i) => ({
          name: v.vm,
          node: fit.nodes[i] as string,
          mac: v.mac,
          ip: v.ip,
          state: 'PENDING',
          domain: '',
          console: '',
        }));
        job.needs = guestNeeds(this.store.data.sites[fit.site], fit.nodes);
        consume(caps.get(fit.site) as SiteCapacity, fit.nodes, job);
        this.setState(job, 'DEPLOYING', `placed on ${fit.site} (nodes ${[...new Set(fit.nodes)].join(', ')}), subnet ${job.subnet}`);
        toDeploy.push(job);
        placed = true;
        changed = true;
        break;
      }
      if (!placed && noteReason(job, pendingReason(req, reasons), this.clock.now())) {
        changed = true;
        const last = job.history[job.history.length - 1];
        this.events.publish({ type: 'job.pending', job: job.id, state: 'PENDING', reason: last?.reason ?? '' });
      }
    }
    if (changed) await this.commit();
    for (const job of toDeploy) void this.deploy(job);
  }

  private async deploy(job: JobRecord): Promise<void> {
    if (this.inflight.has(job.id)) return;
    const site = this.store.data.sites[job.site];
    if (!site) return;
    this.inflight.add(job.id);
    const attempt = job.deployAttempts;
    try {
      const status = await this.deps.agents.deploy(site.advertise, `${job.id}/deploy/${attempt}`, clusterSpec(job));
      if (job.state !== 'DEPLOYING') return; // cancelled meanwhile: the cancel destroys it
      this.applyStatus(job, status);
      this.allocator.activate(job.site, job.id);
      this.setState(job, 'RUNNING', `running on ${job.site}: ${job.vms.map((v) => `${v.name}@${v.node}`).join(', ')}`);
      await this.commit();
    } catch (err) {
      if (job.state !== 'DEPLOYING') return;
      const message = err instanceof Error ? err.message : String(err);
      this.log.warn({ job: job.id, site: job.site, err: message }, 'deploy failed');
      job.deployAttempts++;
      const origin = job.site;
      try {
        await this.deps.agents.destroy(site.advertise, `${job.id}/destroy/${attempt}`, job.id);
        this.allocator.release(origin, job.id);
      } catch {
        this.allocator.markReleasing(origin, job.id);
      }
      const failed = job.deployAttempts >= this.deps.config.jobs.maxDeployAttempts;
      if (failed) {
        this.setState(job, 'FAILED', `deploy on ${origin} failed ${job.deployAttempts === 1 ? 'once' : `${job.deployAttempts} times`}; last: ${message}`);
      } else {
        job.site = '';
        job.subnet = '';
        job.gateway = '';
        job.vms = [];
        this.setState(job, 'PENDING', `deploy on ${origin} failed (${message}); will be placed again`);
      }
      await this.commit();
      if (failed) await this.store.archiveJob(job.id);
      this.schedulePlacement();
    } finally {
      this.inflight.delete(job.id);
      this.settle(job.id);
    }
  }

  /** Copies an agent's view of a cluster into the job's VMs. */
  private applyStatus(job: JobRecord, status: ClusterStatus): boolean {
    let changed = false;
    for (const vm of job.vms) {
      const seen = status.vms.find((v) => v.name === vm.name);
      const state = seen ? seen.state : 'MISSING';
      if (vm.state !== state) {
        vm.state = state;
        changed = true;
        this.events.publish({ type: 'vm.state', job: job.id, site: job.site, vm: vm.name, vmState: state, state: job.state, reason: `${vm.name} ${state}` });
      }
      if (seen && (vm.domain !== seen.domain || vm.console !== seen.console)) {
        vm.domain = seen.domain;
        vm.console = seen.console;
        changed = true;
      }
    }
    return changed;
  }

  // ---------------------------------------------------------------- snapshots

  /** The catalog's snapshots of a job, oldest first. */
  snapshots(jobId: string): Snapshot[] {
    this.job(jobId);
    return Object.values(this.store.data.snapshots)
      .filter((s) => s.job === jobId)
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  }

  /**
   * A read at `site` found snapshot `snapshotId` corrupt or incomplete there: that copy no longer
   * counts (never restored from, never sent); the snapshot is `damaged` once no intact copy is left.
   */
  private markDamaged(snapshotId: string, site: string, err: unknown): void {
    const snap = this.store.data.snapshots[snapshotId];
    if (!snap) return;
    snap.sites = snap.sites.filter((s) => s !== site);
    snap.damagedSites = [...new Set([...(snap.damagedSites ?? []), site])];
    snap.damaged = snap.sites.length === 0;
    const left = snap.damaged ? 'no intact copy is left' : `intact copies: ${snap.sites.join(', ')}`;
    this.log.error({ job: snap.job, snapshot: snapshotId, site, err: errorMessage(err) }, `snapshot copy damaged; ${left}`);
    this.events.publish({ type: 'snapshot.damaged', job: snap.job, site, reason: `snapshot ${snapshotId} at ${site} is damaged (${errorMessage(err)}); ${left}` });
  }

  private latestIntact(job: JobRecord, site: string): Snapshot | undefined {
    return this.snapshots(job.id)
      .filter((s) => !s.damaged && s.sites.includes(site))
      .at(-1);
  }

  private busy(job: JobRecord): void {
    if (this.inflight.has(job.id) || job.pendingOp) {
      throw new NotAllowedError(`job ${job.id} is busy (${job.pendingOp?.kind ?? 'deploying'}); try again when it is done`);
    }
  }

  /** A coordinated snapshot of a running job now (user request or periodic policy). */
  async snapshot(id: string, reason = 'requested by user'): Promise<Snapshot> {
    const job = this.job(id);
    if (job.state !== 'RUNNING') throw new NotAllowedError(`job ${id} is ${job.state}: only a RUNNING job can be snapshotted`);
    this.busy(job);
    const op: PendingOp = { kind: 'checkpoint', snapshotId: randomSnapshotId(), reason };
    job.pendingOp = op;
    this.setState(job, 'CHECKPOINTING', `checkpoint ${op.snapshotId}: ${reason}`);
    await this.commit();
    await this.runOp(job);
    const snap = this.store.data.snapshots[op.snapshotId];
    if (!snap) throw new NotAllowedError(`job ${id} changed state during its checkpoint`);
    return snap;
  }

  /** Final snapshot, then the VMs are stopped and the job's nodes freed; its leases are kept. */
  async suspend(id: string): Promise<JobRecord> {
    const job = this.job(id);
    if (job.state !== 'RUNNING') throw new NotAllowedError(`job ${id} is ${job.state}: only a RUNNING job can be suspended`);
    this.busy(job);
    await this.startSuspend(job, 'requested by user');
    return job;
  }

  private async startSuspend(job: JobRecord, reason: string): Promise<void> {
    job.pendingOp = { kind: 'suspend', snapshotId: randomSnapshotId(), reason };
    this.setState(job, 'SUSPENDING', `suspending (${reason}): final snapshot ${job.pendingOp.snapshotId}`);
    await this.commit();
    await this.runOp(job);
  }

  /** Recreates a SUSPENDED job from its latest intact snapshot, on the nodes of its site that have room now. */
  async resume(id: string, site?: string): Promise<JobRecord> {
    const job = this.job(id);
    if (job.state !== 'SUSPENDED') throw new NotAllowedError(`job ${id} is ${job.state}: only a SUSPENDED job can be resumed`);
    this.busy(job);
    if (site) checkName(site, 'site');
    if (site && site !== job.site) return this.migrate(id, site, `resume requested on ${site}`);
    if (!this.isUp(job.site)) throw new NotAllowedError(`site ${job.site} is DOWN: job ${id} resumes once it is back`);
    const snap = this.latestIntact(job, job.site);
    if (!snap) throw new NotAllowedError(`job ${id} has no intact snapshot on ${job.site}`);
    const cap = this.capacities().get(job.site) as SiteCapacity;
    const fit = fitOnSite(cap, restoreRequest(job));
    if (!fit.ok) throw new NotAllowedError(`no room to resume job ${id} now: ${fit.reason}`);
    job.vms.forEach((vm, i) => (vm.node = fit.nodes[i] as string));
    job.pendingOp = { kind: 'resume', snapshotId: snap.id, reason: 'requested by user' };
    this.setState(job, 'RESUMING', `resuming on ${job.site} (nodes ${[...new Set(fit.nodes)].join(', ')}) from snapshot ${snap.id}`);
    await this.commit();
    await this.runOp(job);
    return job;
  }

  /**
   * Runs (or re-runs, after a coordinator restart) a job's pending operation, or joins the run
   * already under way: a heartbeat's reconcile may start it between the request's commit and its
   * own call, and the request must still wait for the outcome (and see its error).
   */
  private runOp(job: JobRecord): Promise<void> {
    const running = this.opRuns.get(job.id);
    if (running) return running;
    const run = this.runOpOnce(job).finally(() => {
      if (this.opRuns.get(job.id) === run) this.opRuns.delete(job.id);
    });
    this.opRuns.set(job.id, run);
    return run;
  }

  /** One run of a job's pending operation; idempotent at the agent. */
  private async runOpOnce(job: JobRecord): Promise<void> {
    const op = job.pendingOp;
    if (isMove(op)) return this.runMove(job, op);
    const site = this.store.data.sites[job.site];
    if (!op || !site || this.inflight.has(job.id)) return;
    this.inflight.add(job.id);
    try {
      if (op.kind === 'resume') {
        const status = await this.deps.agents.restore(site.advertise, `${job.id}/resume/${op.snapshotId}`, clusterSpec(job), op.snapshotId);
        if (job.pendingOp !== op) return;
        job.pendingOp = undefined;
        job.autoResume = undefined;
        this.applyStatus(job, status);
        this.setState(job, 'RUNNING', `resumed on ${job.site} from snapshot ${op.snapshotId}`);
      } else {
        const kind = op.kind as SnapshotKind; // moves never get here (runMove)
        const snap = await this.deps.agents.takeSnapshot(site.advertise, `${job.id}/${kind}/${op.snapshotId}`, job.id, op.snapshotId, kind);
        if (job.pendingOp !== op) return; // cancelled meanwhile
        job.pendingOp = undefined;
        const rec: Snapshot = { ...snap, id: op.snapshotId, job: job.id, sites: [job.site], kind: op.kind, damaged: false, damagedSites: [] };
        this.store.data.snapshots[rec.id] = rec;
        job.lastSnapshot = rec.id;
        this.events.publish({ type: 'snapshot.taken', job: job.id, site: job.site, state: job.state, reason: rec.id });
        const what = `snapshot ${rec.id}: ${formatBytes(rec.totalBytes)} (${formatBytes(rec.newBytes)} new), downtime ${rec.downtimeMs} ms`;
        if (op.kind === 'checkpoint') {
          this.setState(job, 'RUNNING', `checkpoint done (${op.reason}); ${what}`);
          void this.replicate(job.id, rec.id);
        } else {
          for (const vm of job.vms) vm.state = 'SUSPENDED';
          this.setState(job, 'SUSPENDED', `suspended on ${job.site}; ${what}; nodes freed, addresses kept`);
          this.schedulePlacement();
        }
      }
      await this.commit();
      if (op.kind !== 'resume') void this.prune(job, site);
    } catch (err) {
      if (job.pendingOp !== op) return;
      job.pendingOp = undefined;
      const message = err instanceof Error ? err.message : String(err);
      this.log.warn({ job: job.id, site: job.site, op: op.kind, err: message }, 'operation failed');
      if (op.kind === 'resume') {
        let next = '';
        if (isDataLoss(err)) {
          this.markDamaged(op.snapshotId, job.site, err);
          // never an older state without being asked: say which one a retry would use
          const older = this.latestIntact(job, job.site);
          next = older
            ? `; \`brine resume ${job.id}\` resumes from the older snapshot ${older.id} (${older.createdAt})`
            : `; no intact snapshot of it is left on ${job.site}`;
        }
        for (const vm of job.vms) vm.state = 'SUSPENDED';
        this.setState(job, 'SUSPENDED', `resume from ${op.snapshotId} failed: ${message}${next}`);
      } else {
        this.setState(job, 'RUNNING', `${op.kind} ${op.snapshotId} failed: ${message}`);
      }
      await this.commit();
      throw err;
    } finally {
      this.inflight.delete(job.id);
      this.settle(job.id);
    }
  }

  private settle(jobId: string): void {
    this.settling.set(jobId, this.clock.now().getTime() + 2 * this.heartbeatIntervalMs() + 500);
  }

  private heartbeatIntervalMs(): number {
    return Math.max(100, Math.floor(this.deps.config.heartbeatTimeout / 5));
  }

  /** Applies the site's retention (`snapshots.keep`) and drops deleted snapshots from the catalog. */
  private async prune(job: JobRecord, site: SiteRecord): Promise<void> {
    try {
      const deleted = await this.deps.agents.pruneSnapshots(site.advertise, job.id, site.snapshotsKeep || 3);
      this.forgetCopies(site.name, deleted);
      if (deleted.length) await this.commit();
    } catch (err) {
      this.log.warn({ job: job.id, site: site.name, err: (err as Error).message }, 'snapshot retention failed');
    }
  }

  private forgetCopies(site: string, ids: readonly string[]): void {
    for (const id of ids) {
      const snap = this.store.data.snapshots[id];
      if (!snap) continue;
      snap.sites = snap.sites.filter((s) => s !== site);
      if (snap.sites.length === 0) delete this.store.data.snapshots[id];
    }
  }

  /** An ended job's snapshots are deleted from every store holding them. */
  private async dropSnapshots(job: JobRecord): Promise<void> {
    const snaps = this.snapshots(job.id);
    for (const siteName of new Set(snaps.flatMap((s) => s.sites))) {
      const site = this.store.data.sites[siteName];
      if (!site) continue;
      try {
        this.forgetCopies(siteName, await this.deps.agents.pruneSnapshots(site.advertise, job.id, 0));
      } catch (err) {
        this.log.warn({ job: job.id, site: siteName, err: (err as Error).message }, 'could not delete the snapshots of an ended job');
      }
    }
    if (snaps.length) await this.commit();
  }

  /** The periodic policy: a RUNNING job is checkpointed every `checkpointEvery`, one at a time per site. */
  private periodicCheckpoints(): void {
    const now = this.clock.now().getTime();
    const busySites = new Set(Object.values(this.store.data.jobs).filter((j) => j.pendingOp).map((j) => j.site));
    for (const job of Object.values(this.store.data.jobs)) {
      if (job.state !== 'RUNNING' || this.inflight.has(job.id) || busySites.has(job.site) || !this.isUp(job.site)) continue;
      let every: number;
      try {
        every = parseDurationMs(job.checkpointEvery, 'checkpointEvery');
      } catch {
        continue;
      }
      const since = Math.max(
        Date.parse(this.store.data.snapshots[job.lastSnapshot]?.createdAt ?? '') || 0,
        Date.parse(job.history.findLast((h) => h.state === 'RUNNING')?.at ?? '') || 0,
      );
      if (now - since < every) continue;
      busySites.add(job.site);
      this.snapshot(job.id, `periodic, every ${job.checkpointEvery}`).catch((err: unknown) =>
        this.log.warn({ job: job.id, err: (err as Error).message }, 'periodic checkpoint failed'),
      );
    }
  }

  // ---------------------------------------------------------------- moves between sites

  /**
   * Moves a RUNNING or SUSPENDED job to site `to`: fresh leases there (the origin's stay held),
   * if it runs a pre-copy (`opts.precopy`, see `precopy`) then a final snapshot at the origin,
   * transfer agent to agent, restore at `to` with the new
   * addresses, then the origin's leases are released. Any failure at `to` rolls back to the origin.
   */
  async migrate(id: string, to: string, reason = 'requested by user', opts: { precopy?: boolean } = {}): Promise<JobRecord> {
    const job = this.job(id);
    if (job.state !== 'RUNNING' && job.state !== 'SUSPENDED') {
      throw new NotAllowedError(`job ${id} is ${job.state}: only a RUNNING or SUSPENDED job can be moved`);
    }
    this.busy(job);
    checkName(to, 'to');
    const dest = this.store.data.sites[to];
    if (!dest) throw new NotFoundError('site', to);
    if (to === job.site) throw new InvalidArgumentError('to', `job ${id} is already on ${to}`);
    const { snapshotId, nodes } = this.checkMove(job, dest);
    this.startMove(job, to, nodes, snapshotId, reason, { precopy: opts.precopy !== false });
    await this.commit();
    await this.runOp(job);
    return job;
  }

  /** Why `job` cannot go to `dest` now (throws, saying why), else the nodes there and the snapshot to send. */
  private checkMove(job: JobRecord, dest: SiteRecord): { snapshotId: string; nodes: string[] } {
    const id = job.id;
    if (!this.isUp(dest.name)) throw new NotAllowedError(`site ${dest.name} is DOWN: cannot move job ${id} there`);
    if (!dest.images.includes(job.image)) {
      throw new NotAllowedError(`site ${dest.name} does not offer image ${job.image} (it has: ${dest.images.join(', ') || 'none'})`);
    }
    // only nodes that run the VMs' saved domain type and arch (restoreRequest; design notes, "Compatibility")
    const fit = fitOnSite(this.capacities().get(dest.name) as SiteCapacity, restoreRequest(job));
    if (!fit.ok) throw new NotAllowedError(`no room for job ${id} on ${dest.name}: ${fit.reason}`);
    if (job.state === 'RUNNING') {
      if (!this.isUp(job.site)) throw new NotAllowedError(`site ${job.site} is DOWN: job ${id} cannot take its final snapshot there`);
      return { snapshotId: randomSnapshotId(), nodes: fit.nodes };
    }
    const snap = this.snapshots(id)
      .filter((s) => !s.damaged)
      .at(-1);
    if (!snap) throw new NotAllowedError(`job ${id} has no intact snapshot to move`);
    if (!snap.sites.includes(dest.name) && !snap.sites.some((s) => this.isUp(s))) {
      throw new NotAllowedError(`job ${id}'s latest snapshot ${snap.id} is only on ${snap.sites.join(', ')}, which is DOWN`);
    }
    return { snapshotId: snap.id, nodes: fit.nodes };
  }

  /**
   * Reserves the destination's leases and records the move (the caller commits). `fromSnapshot`:
   * a failover — the origin is unreachable, so there is no final snapshot; the job moves from the
   * one given (taken earlier, copied elsewhere) and counts as running (a rollback resumes it).
   */
  private startMove(job: JobRecord, to: string, nodes: string[], snapshotId: string, reason: string, opts: { fromSnapshot?: boolean; precopy?: boolean } = {}): void {
    const lease = this.allocator.reserve(to, job.id, job.vms.map((v) => v.name));
    if (!lease.ok) throw new NotAllowedError(`no addresses for job ${job.id} on ${to}: ${lease.reason}`);
    const wasRunning = job.state === 'RUNNING';
    const finalSnapshot = wasRunning && !opts.fromSnapshot;
    // Pre-copy unless the destination already holds the job's latest snapshot (a replica): most
    // of the final snapshot's chunks are then there before the cluster stops.
    const latest = this.snapshots(job.id).filter((s) => !s.damaged).at(-1);
    const precopy = finalSnapshot && opts.precopy === true && !latest?.sites.includes(to);
    const move: MoveState = {
      from: { site: job.site, subnet: job.subnet, gateway: job.gateway, vms: clonePlain(job.vms) },
      to: {
        site: to,
        subnet: lease.lease.subnet,
        gateway: lease.lease.gateway,
        vms: lease.lease.vms.map((v, i) => ({ name: v.vm, node: nodes[i] as string, mac: v.mac, ip: v.ip, state: 'PENDING', domain: '', console: '' })),
      },
      wasRunning,
      phase: precopy ? 'precopy' : finalSnapshot ? 'snapshot' : 'transfer',
      ...(precopy ? { precopySnapshotId: randomSnapshotId() } : {}),
    };
    job.pendingOp = { kind: 'move', snapshotId, reason, move };
    const first = precopy
      ? `pre-copy checkpoint ${move.precopySnapshotId} sent while it runs, then final snapshot ${snapshotId} on ${job.site}`
      : finalSnapshot
        ? `final snapshot ${snapshotId} on ${job.site}`
        : `sending snapshot ${snapshotId}`;
    this.setState(job, 'RELOCATING', `moving from ${job.site} to ${to} (${reason}): ${first}; new subnet ${move.to.subnet} reserved`);
  }

  /** Runs a move from the phase it reached; every step is idempotent at the agents (same operation ids). */
  private async runMove(job: JobRecord, op: MoveOp): Promise<void> {
    if (this.inflight.has(job.id)) return;
    this.inflight.add(job.id);
    const m = op.move;
    const from = m.from.site;
    const to = m.to.site;
    try {
      if (m.phase === 'precopy') {
        await this.precopy(job, op);
        if (job.pendingOp !== op) return;
        m.phase = 'snapshot';
        await this.commit();
      }
      if (m.phase === 'snapshot') {
        const origin = this.store.data.sites[from];
        let snap: Snapshot;
        try {
          if (!origin) throw new NotFoundError('site', from);
          snap = await this.deps.agents.takeSnapshot(origin.advertise, `${job.id}/move/${op.snapshotId}`, job.id, op.snapshotId, 'suspend');
        } catch (err) {
          if (job.pendingOp !== op) return;
          // a failed suspend resumes the VMs it paused: the job still runs at the origin, untouched
          job.pendingOp = undefined;
          this.allocator.release(to, job.id); // only reserved, never given to a VM
          this.setState(job, 'RUNNING', `move to ${to} abandoned: final snapshot on ${from} failed: ${errorMessage(err)}`);
          await this.commit();
          this.schedulePlacement();
          throw err;
        }
        if (job.pendingOp !== op) return;
        const rec: Snapshot = { ...snap, id: op.snapshotId, job: job.id, sites: [from], kind: 'suspend', damaged: false, damagedSites: [] };
        this.store.data.snapshots[rec.id] = rec;
        job.lastSnapshot = rec.id;
        for (const vm of job.vms) vm.state = 'SUSPENDED';
        this.events.publish({ type: 'snapshot.taken', job: job.id, site: from, state: job.state, reason: rec.id });
        m.phase = 'transfer';
        noteReason(job, `final snapshot ${rec.id} on ${from}: ${formatBytes(rec.totalBytes)}, downtime ${rec.downtimeMs} ms; sending it to ${to}`, this.clock.now());
        await this.commit();
        this.schedulePlacement(); // the origin's nodes are free now
      }
      if (m.phase === 'transfer') {
        try {
          await this.transfer(job.id, op.snapshotId, to, true);
          if (job.pendingOp !== op) return;
          job.site = to;
          job.subnet = m.to.subnet;
          job.gateway = m.to.gateway;
          job.vms = clonePlain(m.to.vms);
          m.phase = 'restore';
          m.restoreTried = true;
          this.setState(job, 'RESUMING', `restoring on ${to} (nodes ${[...new Set(job.vms.map((v) => v.node))].join(', ')}) from snapshot ${op.snapshotId}, subnet ${job.subnet}`);
        } catch (err) {
          if (job.pendingOp !== op) return;
          m.phase = 'rollback';
          m.failure = `transfer to ${to} failed: ${errorMessage(err)}`;
        }
        await this.commit();
      }
      if (m.phase === 'restore') {
        const dest = this.store.data.sites[to];
        try {
          if (!dest) throw new NotFoundError('site', to);
          const status = await this.deps.agents.restore(dest.advertise, `${job.id}/move/${op.snapshotId}/restore`, clusterSpec(job), op.snapshotId);
          if (job.pendingOp !== op) return;
          this.applyStatus(job, status);
          this.allocator.activate(to, job.id);
          // the cluster runs at the destination: only now may the origin's addresses go
          if (this.allocator.lease(from, job.id)) this.allocator.markReleasing(from, job.id);
          job.pendingOp = undefined;
          job.autoResume = undefined;
          const addrs = job.vms.map((v) => `${v.name} ${v.ip}`).join(', ');
          this.setState(job, 'RUNNING', `moved from ${from} to ${to} (${op.reason}): subnet ${job.subnet}, ${addrs}`);
          await this.commit();
          this.schedulePlacement();
          void this.releaseAt(job.id, from, `${job.id}/move/${op.snapshotId}/release`);
          if (dest) void this.prune(job, dest);
          return;
        } catch (err) {
          if (job.pendingOp !== op) return;
          if (isDataLoss(err)) this.markDamaged(op.snapshotId, to, err);
          m.phase = 'rollback';
          m.failure = `restore on ${to} failed: ${errorMessage(err)}`;
          await this.commit();
        }
      }
      if (m.phase === 'rollback') await this.rollbackMove(job, op);
    } finally {
      this.inflight.delete(job.id);
      this.settle(job.id);
    }
    // a rolled-back move of a running job: it resumes at the origin (or wherever there is room)
    if (job.state === 'SUSPENDED' && job.autoResume) this.schedulePlacement();
  }

  /**
   * A move's pre-copy: a checkpoint of the running job (a normal one: cataloged, replicated no
   * further, pruned as usual) sent to the destination while the VMs run, so the final snapshot
   * stores and sends only what changed since. It only saves time: if it fails, the move carries
   * on without it. Idempotent (same ids) after a coordinator restart.
   */
  private async precopy(job: JobRecord, op: MoveOp): Promise<void> {
    const m = op.move;
    const id = m.precopySnapshotId;
    const origin = this.store.data.sites[m.from.site];
    if (!id || !origin) return;
    try {
      let rec = this.store.data.snapshots[id];
      if (!rec) {
        const snap = await this.deps.agents.takeSnapshot(origin.advertise, `${job.id}/move/${op.snapshotId}/precopy`, job.id, id, 'checkpoint');
        if (job.pendingOp !== op) return;
        rec = { ...snap, id, job: job.id, sites: [m.from.site], kind: 'checkpoint', damaged: false, damagedSites: [] };
        this.store.data.snapshots[id] = rec;
        job.lastSnapshot = id;
        this.events.publish({ type: 'snapshot.taken', job: job.id, site: m.from.site, state: job.state, reason: id });
        await this.commit();
      }
      await this.transfer(job.id, id, m.to.site, true);
      if (job.pendingOp !== op) return;
      noteReason(job, `pre-copy ${id} (${formatBytes(rec.totalBytes)}, downtime ${rec.downtimeMs} ms) is on ${m.to.site}; final snapshot on ${m.from.site} next`, this.clock.now());
    } catch (err) {
      if (job.pendingOp !== op) return;
      this.log.warn({ job: job.id, snapshot: id, err: errorMessage(err) }, 'pre-copy failed; moving without it');
      noteReason(job, `pre-copy failed (${errorMessage(err)}); moving without it`, this.clock.now());
    }
  }

  /**
   * Undoes a move that failed at the destination: what the restore may have created there is
   * destroyed and its leases freed (or left `releasing` until the site confirms), the job is
   * placed back at the origin with its old addresses, SUSPENDED with its snapshot intact; a job
   * that was running resumes at once (the placement pass prefers the site holding its snapshot).
   */
  private async rollbackMove(job: JobRecord, op: MoveOp): Promise<void> {
    const m = op.move;
    const to = m.to.site;
    this.log.warn({ job: job.id, from: m.from.site, to, err: m.failure }, 'move failed; rolling back');
    if (this.allocator.lease(to, job.id)) {
      if (m.restoreTried) {
        // a restore may have started VMs on these addresses: they are free only once gone
        this.allocator.markReleasing(to, job.id);
        await this.releaseAt(job.id, to, `${job.id}/move/${op.snapshotId}/undo`);
      } else {
        this.allocator.release(to, job.id); // reserved only, never given to a VM
      }
    }
    job.site = m.from.site;
    job.subnet = m.from.subnet;
    job.gateway = m.from.gateway;
    job.vms = clonePlain(m.from.vms).map((v) => ({ ...v, state: 'SUSPENDED' }));
    job.pendingOp = undefined;
    if (m.wasRunning) job.autoResume ??= `its move to ${to} failed`;
    this.setState(
      job,
      'SUSPENDED',
      `move to ${to} failed (${m.failure ?? 'unknown'}); back on ${m.from.site} with its old addresses, snapshot ${op.snapshotId} intact` +
        (m.wasRunning ? '; resuming it' : ''),
    );
    await this.commit();
  }

  /** Destroys a job's cluster at `site` (idempotent) and frees its leases there; on failure they stay `releasing`. */
  private async releaseAt(jobId: string, site: string, operationId: string): Promise<void> {
    const record = this.store.data.sites[site];
    if (!record) return;
    try {
      await this.deps.agents.destroy(record.advertise, operationId, jobId);
      this.allocator.release(site, jobId);
      await this.commit();
      this.schedulePlacement();
    } catch (err) {
      this.log.warn({ job: jobId, site, err: errorMessage(err) }, 'destroy failed; leases stay releasing until the site confirms');
    }
  }

  /**
   * Makes sure site `to` holds snapshot `snapshotId` complete, pulling it agent to agent from a
   * site that has it (the job's own site first); progress goes out as `transfer.progress` events.
   */
  private async transfer(jobId: string, snapshotId: string, to: string, urgent: boolean): Promise<void> {
    const snap = this.store.data.snapshots[snapshotId];
    if (!snap) throw new NotFoundError('snapshot', snapshotId);
    if (snap.sites.includes(to)) return;
    const dest = this.store.data.sites[to];
    if (!dest) throw new NotFoundError('site', to);
    const home = this.store.data.jobs[jobId]?.site;
    // the job's own site first (its copy is the freshest on disk there), then the others
    const holders = () => [...snap.sites].sort((a, b) => Number(b === home) - Number(a === home)).filter((s) => s !== to && this.isUp(s));
    let done: { bytesTotal: number } | undefined;
    let sourceName = '';
    const tried: string[] = [];
    for (;;) {
      const source = holders().find((s) => !tried.includes(s));
      if (source === undefined) break;
      tried.push(source);
      const record = this.store.data.sites[source];
      if (!record) continue;
      sourceName = source;
      try {
        done = await this.fetchFrom(jobId, snapshotId, source, record.advertise, dest, urgent);
        break;
      } catch (err) {
        if (!isDataLoss(err)) throw err;
        // the destination verified what the source sent and refused it: that copy is damaged
        this.markDamaged(snapshotId, source, err);
        await this.commit();
      }
    }
    if (!done) {
      throw new UnavailableError(
        tried.length > 0
          ? `no intact copy of snapshot ${snapshotId} could be sent to ${to} (tried ${tried.join(', ')})`
          : `no site holding snapshot ${snapshotId} (${snap.sites.join(', ') || 'none'}) is UP`,
      );
    }
    const current = this.store.data.snapshots[snapshotId];
    if (current && !current.sites.includes(to)) current.sites.push(to);
    this.log.info({ job: jobId, snapshot: snapshotId, from: sourceName, to, bytes: done.bytesTotal, urgent }, 'snapshot transferred');
    await this.commit();
  }

  /** One agent-to-agent pull of a snapshot; its progress goes out as `transfer.progress` events. */
  private async fetchFrom(jobId: string, snapshotId: string, source: string, sourceAddress: string, dest: SiteRecord, urgent: boolean): Promise<{ bytesTotal: number }> {
    let lastEvent = 0;
    return this.deps.agents.fetchSnapshot(
      dest.advertise,
      { operationId: `${jobId}/fetch/${snapshotId}/${dest.name}`, snapshotId, jobId, source: sourceAddress, urgent },
      (p) => {
        // at most ~5 events a second per transfer: watchers want a bar, not a flood
        const now = Date.now();
        if (!p.done && now - lastEvent < 200) return;
        lastEvent = now;
        const left = Math.max(0, p.bytesTotal - p.bytesDone);
        const etaMs = p.done ? 0 : p.rateBps > 0 ? Math.round((left / p.rateBps) * 1000) : -1;
        this.events.publish({
          type: 'transfer.progress',
          job: jobId,
          site: dest.name,
          snapshot: snapshotId,
          bytesDone: p.bytesDone,
          bytesTotal: p.bytesTotal,
          rateBps: p.rateBps,
          etaMs,
          reason:
            `${urgent ? 'move' : 'replica'} ${snapshotId} ${source}→${dest.name}: ${formatBytes(p.bytesDone)}/${formatBytes(p.bytesTotal)}` +
            (p.rateBps > 0 ? ` at ${formatBytes(p.rateBps)}/s` : '') +
            (etaMs > 0 ? `, ${formatEta(etaMs)} left` : '') +
            ` (${p.phase || 'transferring'})`,
        });
      },
    );
  }

  /**
   * After a checkpoint: copies it in the background to `snapshots.replicas` other UP sites that
   * offer the job's image (sites already holding earlier snapshots of the job first: most chunks
   * are there already), then applies each replica site's retention.
   */
  private async replicate(jobId: string, snapshotId: string): Promise<void> {
    const job = this.store.data.jobs[jobId];
    const snap = this.store.data.snapshots[snapshotId];
    const home = job ? this.store.data.sites[job.site] : undefined;
    if (!job || !snap || !home) return;
    const want = (home.snapshotsReplicas ?? 0) - (snap.sites.length - 1);
    if (want <= 0) return;
    const holders = new Set(this.snapshots(jobId).flatMap((s) => s.sites));
    const targets = Object.values(this.store.data.sites)
      .filter((s) => s.name !== home.name && !snap.sites.includes(s.name) && this.isUp(s.name) && s.images.includes(job.image))
      .sort((a, b) => Number(holders.has(b.name)) - Number(holders.has(a.name)) || a.name.localeCompare(b.name))
      .slice(0, want);
    await Promise.all(
      targets.map(async (target) => {
        try {
          await this.transfer(jobId, snapshotId, target.name, false);
          this.events.publish({ type: 'snapshot.replicated', job: jobId, site: target.name, snapshot: snapshotId, reason: `${snapshotId} copied to ${target.name}` });
          const live = this.store.data.jobs[jobId];
          if (live && !isEnded(live.state)) await this.prune(live, target);
          else await this.deps.agents.pruneSnapshots(target.advertise, jobId, 0); // the job ended meanwhile
        } catch (err) {
          this.log.warn({ job: jobId, snapshot: snapshotId, site: target.name, err: errorMessage(err) }, 'replication failed');
        }
      }),
    );
  }

  /**
   * Placement of SUSPENDED jobs waiting to resume (preempted, or a move rolled back): a site that
   * holds the latest snapshot first (no transfer: the job's own site, then replicas), else any
   * site with room, through a move. Returns whether anything changed (the caller commits).
   */
  private async placeSuspended(jobs: JobRecord[], caps: Map<string, SiteCapacity>): Promise<boolean> {
    let changed = false;
    for (const job of jobs.sort((a, b) => a.createdAt.localeCompare(b.createdAt))) {
      const req = restoreRequest(job);
      const snap = this.snapshots(job.id)
        .filter((s) => !s.damaged)
        .at(-1);
      if (!snap) {
        changed = noteReason(job, `cannot resume by itself: no intact snapshot (${job.autoResume})`, this.clock.now()) || changed;
        continue;
      }
      const { fits, misses } = rankSites(caps.values(), req);
      const order = (site: string): number => (site === job.site ? 0 : snap.sites.includes(site) ? 1 : 2);
      const reachable = snap.sites.some((s) => this.isUp(s));
      const fit = fits.filter((f) => order(f.site) < 2 || reachable).sort((a, b) => order(a.site) - order(b.site))[0];
      if (!fit) {
        const why = `waiting for room to resume (${job.autoResume}): ${pendingReason(req, misses)}`;
        if (noteReason(job, why, this.clock.now())) {
          changed = true;
          this.events.publish({ type: 'job.pending', job: job.id, state: 'SUSPENDED', reason: why });
        }
        continue;
      }
      try {
        if (fit.site === job.site) {
          job.vms.forEach((vm, i) => (vm.node = fit.nodes[i] as string));
          job.pendingOp = { kind: 'resume', snapshotId: snap.id, reason: job.autoResume ?? 'automatic' };
          this.setState(job, 'RESUMING', `resuming on ${job.site} (nodes ${[...new Set(fit.nodes)].join(', ')}) from snapshot ${snap.id}: ${job.autoResume}`);
        } else {
          this.startMove(job, fit.site, fit.nodes, snap.id, job.autoResume ?? 'automatic');
        }
      } catch (err) {
        this.log.warn({ job: job.id, site: fit.site, err: errorMessage(err) }, 'cannot resume a waiting job there');
        continue;
      }
      consume(caps.get(fit.site) as SiteCapacity, fit.nodes, job);
      changed = true;
      this.runSoon(job, 'automatic resume failed');
    }
    return changed;
  }

  /**
   * Runs the operation just recorded on `job` once a commit has made it durable, without making
   * the caller (a placement pass, the liveness tick) wait for the whole move or resume.
   */
  private runSoon(job: JobRecord, failure: string): void {
    setImmediate(() => {
      this.commit()
        .then(() => this.runOp(job))
        .catch((err: unknown) => this.log.warn({ job: job.id, err: errorMessage(err) }, failure));
    });
  }

  // ---------------------------------------------------------------- preemption

  /**
   * The site's batch scheduler takes `nodes` back: no new VM goes there, and each job with VMs
   * on them is suspended (final snapshot, durable at the site) within `grace`; the answer says,
   * per job, whether that happened. Each one then resumes by itself wherever there is room.
   */
  async reclaim(siteName: string, nodes: readonly string[], grace: string): Promise<Site> {
    const site = this.siteForNodes(siteName, nodes);
    const graceMs = grace ? parseDurationMs(grace, 'grace') : DEFAULT_GRACE_MS;
    const reason = `nodes ${[...nodes].sort().join(', ')} of ${siteName} reclaimed by its batch scheduler`;
    site.reclaimedNodes = [...new Set([...site.reclaimedNodes, ...nodes])].sort();
    const hit = Object.values(this.store.data.jobs).filter(
      (j) => j.site === siteName && (HOLDING_STATES.has(j.state) || isMove(j.pendingOp)) && j.vms.some((v) => nodes.includes(v.node)),
    );
    for (const job of hit) job.autoResume = reason;
    await this.commit();
    this.log.info({ site: siteName, nodes, jobs: hit.map((j) => j.id), graceMs }, 'nodes reclaimed');
    this.events.publish({ type: 'site.reclaim', site: siteName, reason: `${reason}; preempting ${hit.map((j) => j.id).join(', ') || 'no job'}` });
    const deadline = this.clock.now().getTime() + graceMs;
    const preempted = await Promise.all(hit.map((job) => this.preempt(job, siteName, nodes, deadline, reason)));
    const unsaved = preempted.filter((p) => !p.saved);
    if (unsaved.length) this.log.warn({ site: siteName, jobs: unsaved.map((p) => p.job) }, 'reclaimed nodes: some jobs were not saved within the grace period');
    this.schedulePlacement();
    const view = this.sites().find((s) => s.name === siteName) as Site;
    return { ...view, preempted };
  }

  /** Suspends one job hit by a reclaim, waiting out whatever it is doing first, until `deadline`. */
  private async preempt(job: JobRecord, site: string, nodes: readonly string[], deadline: number, reason: string): Promise<PreemptedJob> {
    let lastError = '';
    for (;;) {
      const onNodes = job.site === site && job.vms.some((v) => nodes.includes(v.node));
      if (isEnded(job.state)) return { job: job.id, snapshot: '', saved: true, reason: `job ${job.state}` };
      if (job.state === 'SUSPENDED' || (!onNodes && !isMove(job.pendingOp))) {
        // suspended (by this reclaim or a racing one), or already moved off these nodes
        return { job: job.id, snapshot: job.lastSnapshot, saved: true, reason: job.state === 'SUSPENDED' ? `suspended; snapshot ${job.lastSnapshot} complete on disk` : `now ${job.state} on ${job.site}` };
      }
      const left = deadline - this.clock.now().getTime();
      if (left <= 0) {
        return { job: job.id, snapshot: '', saved: false, reason: `not saved within the grace period: still ${job.state}${lastError ? ` (${lastError})` : ''}` };
      }
      if (job.state === 'RUNNING' && !job.pendingOp && !this.inflight.has(job.id)) {
        const suspending = this.startSuspend(job, `preempted: ${reason}`).catch((err: unknown) => {
          lastError = errorMessage(err);
        });
        await Promise.race([suspending, sleep(left)]);
      } else {
        // checkpointing, deploying, moving…: let it finish (a racing reclaim's suspend included)
        await sleep(Math.min(200, left));
      }
    }
  }

  /** Reclaimed nodes are free for best-effort work again. */
  async releaseNodes(siteName: string, nodes: readonly string[]): Promise<Site> {
    const site = this.siteForNodes(siteName, nodes);
    site.reclaimedNodes = site.reclaimedNodes.filter((n) => !nodes.includes(n));
    await this.commit();
    this.log.info({ site: siteName, nodes }, 'nodes released');
    this.events.publish({ type: 'site.release', site: siteName, reason: `nodes ${[...nodes].sort().join(', ')} of ${siteName} free for best-effort work again` });
    this.schedulePlacement();
    return this.sites().find((s) => s.name === siteName) as Site;
  }

  private siteForNodes(siteName: string, nodes: readonly string[]): SiteRecord {
    checkName(siteName, 'site');
    const site = this.store.data.sites[siteName];
    if (!site) throw new NotFoundError('site', siteName);
    if (nodes.length === 0) throw new InvalidArgumentError('nodes', 'give at least one node');
    const known = site.nodes.map((n) => n.name);
    const unknown = nodes.filter((n) => !known.includes(n));
    if (unknown.length) throw new InvalidArgumentError('nodes', `unknown node${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} at ${siteName} (known: ${known.join(', ')})`);
    return site;
  }

  // ---------------------------------------------------------------- sites

  isUp(site: string): boolean {
    const s = this.sessions.get(site);
    return !!s && this.clock.now().getTime() - s.lastHeartbeat <= this.deps.config.heartbeatTimeout;
  }

  sites(): Site[] {
    const caps = this.capacities();
    return Object.values(this.store.data.sites)
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((s) => {
        const cap = caps.get(s.name);
        const session = this.sessions.get(s.name);
        return {
          name: s.name,
          state: this.isUp(s.name) ? 'UP' : 'DOWN',
          nodes: s.nodes.map((n) => {
            const c = cap?.nodes.find((x) => x.name === n.name);
            return {
              name: n.name,
              state: !this.isUp(s.name) ? 'DOWN' : s.reclaimedNodes.includes(n.name) ? 'RECLAIMED' : 'UP',
              cpus: n.cpus,
              memoryMiB: n.memoryMiB,
              freeCpus: n.cpus - (c?.usedCpus ?? 0),
              freeMemoryMiB: n.memoryMiB - (c?.usedMemoryMiB ?? 0),
              uri: n.uri,
              arch: n.arch ?? '',
              domainType: n.domainType ?? '',
              cpuModel: n.cpuModel ?? '',
            };
          }),
          subnetPool: s.subnetPool,
          macRange: s.macRange,
          advertise: s.advertise,
          images: s.images,
          lastHeartbeat: session ? new Date(session.lastHeartbeat).toISOString() : '',
          preempted: [],
        };
      });
  }

  addresses(site?: string): Lease[] {
    if (site) checkName(site, 'site');
    if (site && !this.store.data.sites[site]) throw new NotFoundError('site', site);
    return this.allocator.flatLeases(site || undefined);
  }

  private validateRegistration(req: RegisterRequest): void {
    checkName(req.site, 'site');
    if (!/^[^\s:]+:\d{1,5}$/.test(req.advertise)) throw new InvalidArgumentError('advertise', `expected HOST:PORT, got "${req.advertise}"`);
    if (req.nodes.length === 0) throw new InvalidArgumentError('nodes', 'a site needs at least one node');
    const seen = new Set<string>();
    req.nodes.forEach((n, i) => {
      checkName(n.name, `nodes[${i}].name`);
      if (seen.has(n.name)) throw new InvalidArgumentError(`nodes[${i}].name`, `duplicate node name ${n.name}`);
      seen.add(n.name);
      if (n.cpus <= 0) throw new InvalidArgumentError(`nodes[${i}].cpus`, `must be positive, got ${n.cpus}`);
      if (n.memoryMiB <= 0) throw new InvalidArgumentError(`nodes[${i}].memoryMiB`, `must be positive, got ${n.memoryMiB}`);
    });
    req.images.forEach((img, i) => checkName(img, `images[${i}]`));
    if (!req.instance) throw new InvalidArgumentError('instance', 'is required');
  }

  async register(req: RegisterRequest): Promise<{ session: string; heartbeatIntervalMs: number }> {
    this.validateRegistration(req);
    const live = this.sessions.get(req.site);
    const existing = this.store.data.sites[req.site];
    if (live && this.isUp(req.site) && existing && existing.instance !== req.instance) {
      throw new AlreadyExistsError(
        `site ${req.site} is already registered by a live agent at ${existing.advertise}; stop that agent or give this one another site name`,
      );
    }
    // Validates the pool and MAC range against every other site's (throws, naming both sites).
    this.allocator.addSite(req.site, req.subnetPool, req.macRange);
    const record: SiteRecord = {
      name: req.site,
      advertise: req.advertise,
      nodes: req.nodes.map((n) => ({
        name: n.name,
        uri: n.uri,
        cpus: n.cpus,
        memoryMiB: n.memoryMiB,
        arch: n.arch,
        domainType: n.domainType,
        domainTypes: [...n.domainTypes],
        cpuModel: n.cpuModel,
      })),
      images: [...req.images].sort(),
      subnetPool: req.subnetPool,
      macRange: req.macRange,
      instance: req.instance,
      defaultCheckpointEvery: req.defaultCheckpointEvery,
      reclaimedNodes: existing?.reclaimedNodes ?? [],
      snapshotsKeep: req.snapshotsKeep > 0 ? req.snapshotsKeep : 3,
      snapshotsReplicas: Math.max(0, req.snapshotsReplicas),
    };
    this.store.data.sites[req.site] = record;
    const session = randomBytes(12).toString('hex');
    const wasUp = this.isUp(req.site);
    this.sessions.set(req.site, { id: session, instance: req.instance, lastHeartbeat: this.clock.now().getTime() });
    this.downSince.delete(req.site);
    this.deps.agents.reconnect(req.advertise);
    await this.commit();
    this.log.info({ site: req.site, advertise: req.advertise, nodes: req.nodes.length }, 'site registered');
    if (!wasUp) this.events.publish({ type: 'site.up', site: req.site, reason: `registered from ${req.advertise}` });
    await this.reconcile(req.site, req.clusters);
    this.schedulePlacement();
    return { session, heartbeatIntervalMs: this.heartbeatIntervalMs() };
  }

  private checkSession(site: string, session: string): void {
    const s = this.sessions.get(site);
    if (!s || s.id !== session) throw new BrineError('NOT_FOUND', `unknown session for site ${site}: register again`);
  }

  async heartbeat(site: string, session: string, clusters: ClusterStatus[]): Promise<string[]> {
    this.checkSession(site, session);
    const s = this.sessions.get(site) as Session;
    const wasUp = this.isUp(site);
    s.lastHeartbeat = this.clock.now().getTime();
    if (!wasUp) {
      this.events.publish({ type: 'site.up', site, reason: 'heartbeats resumed' });
      this.schedulePlacement();
    }
    await this.reconcile(site, clusters);
    return this.placedJobs(site);
  }

  async reportStatus(site: string, session: string, cluster: ClusterStatus): Promise<void> {
    this.checkSession(site, session);
    await this.reconcile(site, [cluster], { partial: true });
  }

  /** Jobs whose VMs belong at `site` now (the agent fences everything else). */
  private placedJobs(site: string): string[] {
    return Object.values(this.store.data.jobs)
      .filter((j) => j.site === site && HOLDING_STATES.has(j.state))
      .map((j) => j.id);
  }

  /**
   * An agent's view of its clusters against ours: VM states, jobs whose VMs all stopped by
   * themselves (COMPLETED), clusters that vanished (redeployed), releasing leases now confirmed free.
   */
  private async reconcile(site: string, clusters: ClusterStatus[], options: { partial?: boolean } = {}): Promise<void> {
    let changed = false;
    const reported = new Map(clusters.map((c) => [c.jobId, c]));
    const ending: JobRecord[] = [];
    for (const job of Object.values(this.store.data.jobs)) {
      if (job.site !== site) continue;
      const status = reported.get(job.id);
      if (job.pendingOp) {
        // an operation a coordinator restart interrupted: re-issue it with the same ids
        if (!options.partial && !this.inflight.has(job.id)) void this.runOp(job).catch(() => undefined);
      } else if (job.state === 'RUNNING' && !this.inflight.has(job.id)) {
        const settled = (this.settling.get(job.id) ?? 0) <= this.clock.now().getTime();
        if (!settled) {
          if (status) changed = this.applyStatus(job, status) || changed;
        } else if (status && status.vms.length > 0) {
          changed = this.applyStatus(job, status) || changed;
          if (job.vms.every((v) => v.state === 'SHUTOFF')) {
            this.setState(job, 'COMPLETED', `all ${job.vms.length} VMs shut down by themselves`);
            ending.push(job);
            changed = true;
          }
        } else if (!options.partial) {
          this.setState(job, 'DEPLOYING', `VMs missing on ${site} (agent restarted with a fresh hypervisor state); redeploying`);
          changed = true;
          void this.deploy(job);
        }
      } else if (job.state === 'DEPLOYING' && !this.inflight.has(job.id) && !options.partial) {
        // a coordinator restart interrupted this deploy: deploys are idempotent, so do it again
        void this.deploy(job);
      }
    }
    if (!options.partial) {
      for (const lease of this.allocator.leases(site)) {
        if (lease.state === 'releasing' && !reported.has(lease.job)) {
          this.allocator.release(site, lease.job);
          changed = true;
          const job = this.store.data.jobs[lease.job];
          if (job && isEnded(job.state)) void this.store.archiveJob(job.id);
        }
      }
    }
    if (changed) {
      await this.commit();
      this.schedulePlacement();
    }
    for (const job of ending) await this.endJob(job, site);
  }

  private tick(): void {
    const now = this.clock.now().getTime();
    for (const [job, until] of this.settling) if (until <= now) this.settling.delete(job);
    this.checkLiveness();
    this.failover();
    this.periodicCheckpoints();
  }

  /**
   * A site DOWN for `jobs.failoverAfter` has failed (as far as its jobs can tell): each RUNNING job
   * there resumes on another site from its latest snapshot copied to an UP site (replication puts
   * one there after each checkpoint), with fresh addresses; what it did since that snapshot is
   * lost, and its history says so. Its leases at the dead site stay `releasing` until that site is
   * back and shows the cluster gone: the site's agent destroys what is no longer placed there
   * (fencing), so the job never runs twice once the site reconnects. A job with no copy elsewhere
   * waits for its site.
   */
  private failover(): void {
    const after = this.deps.config.jobs.failoverAfter;
    if (after === null || this.stopped) return;
    const now = this.clock.now().getTime();
    const dead = new Map([...this.downSince].filter(([site, since]) => now - since >= after && !this.isUp(site)));
    if (dead.size === 0) return;
    let caps: Map<string, SiteCapacity> | undefined;
    let changed = false;
    for (const job of Object.values(this.store.data.jobs)) {
      const since = dead.get(job.site);
      if (since === undefined || job.state !== 'RUNNING' || job.pendingOp || this.inflight.has(job.id)) continue;
      const down = `site ${job.site} is DOWN since ${new Date(since).toISOString()}`;
      const snap = this.snapshots(job.id)
        .filter((s) => !s.damaged && s.sites.some((x) => x !== job.site && this.isUp(x)))
        .at(-1);
      if (!snap) {
        changed = noteReason(job, `${down}; no snapshot of it is on another UP site: it carries on when ${job.site} is back`, this.clock.now()) || changed;
        continue;
      }
      caps ??= this.capacities();
      const req = restoreRequest(job);
      const { fits, misses } = rankSites(caps.values(), req);
      // a site that holds the snapshot first: nothing to send
      const fit = fits.filter((f) => f.site !== job.site).sort((a, b) => Number(snap.sites.includes(b.site)) - Number(snap.sites.includes(a.site)))[0];
      if (!fit) {
        changed = noteReason(job, `${down}; waiting for room elsewhere to resume it from snapshot ${snap.id}: ${pendingReason(req, misses)}`, this.clock.now()) || changed;
        continue;
      }
      try {
        this.startMove(job, fit.site, fit.nodes, snap.id, `failover: ${down}; from snapshot ${snap.id} of ${snap.createdAt}, its work since then is lost`, { fromSnapshot: true });
      } catch (err) {
        this.log.warn({ job: job.id, site: fit.site, err: errorMessage(err) }, 'cannot fail the job over there');
        continue;
      }
      consume(caps.get(fit.site) as SiteCapacity, fit.nodes, job);
      this.log.warn({ job: job.id, from: job.site, to: fit.site, snapshot: snap.id }, 'failing a job over to another site');
      changed = true;
      this.runSoon(job, 'failover move failed');
    }
    if (changed) void this.commit().catch((err: unknown) => this.log.error({ err: errorMessage(err) }, 'commit failed'));
  }

  private checkLiveness(): void {
    const now = this.clock.now().getTime();
    for (const [site, s] of this.sessions) {
      if (now - s.lastHeartbeat > this.deps.config.heartbeatTimeout) {
        this.sessions.delete(site);
        this.downSince.set(site, now);
        this.log.warn({ site }, 'site DOWN: no heartbeat');
        this.events.publish({ type: 'site.down', site, reason: `no heartbeat for ${formatDuration(this.deps.config.heartbeatTimeout)}` });
      }
    }
  }
}

/** The wire form of a job (bookkeeping fields dropped). */
export function toJobMessage(job: JobRecord): Job {
  const { deployAttempts: _attempts, pendingOp: _op, autoResume: _auto, ...wire } = job;
  return wire;
}

/** What the agent needs to run a job's cluster where it is placed now. */
export function clusterSpec(job: JobRecord): ClusterSpec {
  return {
    jobId: job.id,
    jobName: job.name,
    image: job.image,
    cpus: job.cpus,
    memoryMiB: job.memoryMiB,
    subnet: job.subnet,
    gateway: job.gateway,
    vms: job.vms.map((v) => ({ name: v.name, node: v.node, mac: v.mac, ip: v.ip })),
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

