// The grid's brain, as one facade over its parts (each in its own module, each given a narrow
// `Pick<CoordinatorContext, …>`): job commands, placement, deploys, operations, moves, transfers,
// replication, preemption, the site registry, reconcile and failover. All state changes happen on
// the event loop and are group-committed to the store before they are acknowledged.
import type { Logger } from '../shared/logger.js';
import { NotFoundError } from '../shared/errors.js';
import { checkName } from '../shared/names.js';
import { systemClock, systemTimers, type Clock, type TimerHandle, type Timers } from '../shared/clock.js';
import type { ClusterStatus, Lease, Site, Snapshot } from '../shared/proto.js';
import type { RegisterRequest__Output as RegisterRequest } from '../gen/brine/v1/RegisterRequest.js';
import type { SubmitJobRequest__Output as SubmitJobRequest } from '../gen/brine/v1/SubmitJobRequest.js';
import type { AgentGateway } from './agents.js';
import { AddressAllocator } from './address-allocator.js';
import type { CoordinatorConfig } from './config.js';
import type { CoordinatorContext } from './context.js';
import { dueCheckpoints } from './checkpoint-policy.js';
import { Deployer } from './deployer.js';
import { EventBus } from './events.js';
import { Failover } from './failover.js';
import { GridState } from './grid-state.js';
import { randomIds, type Ids } from './ids.js';
import { JobCommands } from './job-commands.js';
import { JobFlags } from './job-flags.js';
import { JobLogs, type LogPiece } from './logs.js';
import { JobOutputs } from './outputs.js';
import type { OutputChunk } from './agents.js';
import { JobIndex } from './job-index.js';
import { applyLocalReclaimReport } from './local-reclaim-report.js';
import type { LocalReclaimReport__Output as LocalReclaimReport } from '../gen/brine/v1/LocalReclaimReport.js';
import { MoveExecutor } from './move-executor.js';
import { JobOperations } from './operations.js';
import { PlacementLoop } from './placement.js';
import { Preemption } from './preemption.js';
import { Reconciler } from './reconcile.js';
import { Replication } from './replication.js';
import { SiteRegistry } from './site-registry.js';
import { SnapshotCatalog } from './snapshot-catalog.js';
import type { JobRecord, Store } from './store.js';
import { Teardown } from './teardown.js';
import { Transfers } from './transfers.js';
import { errorMessage } from '../shared/errors.js';

export { clusterSpec, toJobMessage } from './wire.js';

export interface CoordinatorDeps {
  config: CoordinatorConfig;
  store: Store;
  agents: AgentGateway;
  log: Logger;
  clock?: Clock;
  timers?: Timers;
  ids?: Partial<Ids>;
}

/** Every part, wired to the others through the one context they each see a `Pick` of. */
class Parts implements CoordinatorContext {
  readonly config: CoordinatorConfig;
  readonly store: Store;
  readonly agents: AgentGateway;
  readonly log: Logger;
  readonly clock: Clock;
  readonly timers: Timers;
  readonly ids: Ids;
  readonly events = new EventBus();
  readonly flags = new JobFlags();
  readonly index = new JobIndex();
  readonly allocator: AddressAllocator;
  // parts keep `this` and use each other only when called, so the order here does not matter
  readonly grid = new GridState(this);
  readonly catalog = new SnapshotCatalog(this);
  readonly registry = new SiteRegistry(this);
  readonly placement = new PlacementLoop(this);
  readonly deployer = new Deployer(this);
  readonly operations = new JobOperations(this);
  readonly moves = new MoveExecutor(this);
  readonly transfers = new Transfers(this);
  readonly replication = new Replication(this);
  readonly teardown = new Teardown(this);
  readonly reconciler = new Reconciler(this);
  readonly commands = new JobCommands(this);
  readonly preemption = new Preemption(this);
  readonly failover = new Failover(this);
  readonly logs = new JobLogs(this);
  readonly outputs = new JobOutputs(this);

  constructor(deps: CoordinatorDeps) {
    this.config = deps.config;
    this.store = deps.store;
    this.agents = deps.agents;
    this.log = deps.log;
    this.clock = deps.clock ?? systemClock;
    this.timers = deps.timers ?? systemTimers;
    this.ids = { ...randomIds, ...deps.ids };
    const data = deps.store.data;
    this.allocator = AddressAllocator.restore(
      Object.values(data.sites).map((s) => ({ site: s.name, pool: s.subnetPool, macRange: s.macRange })),
      data.leases,
    );
    this.index.rebuild(Object.values(data.jobs));
  }
}

export class Coordinator {
  private readonly p: Parts;
  private tickTimer: TimerHandle | undefined;

  constructor(deps: CoordinatorDeps) {
    this.p = new Parts(deps);
  }

  get events(): EventBus {
    return this.p.events;
  }

  start(): void {
    this.p.registry.start();
    const every = Math.max(100, Math.min(1000, this.p.config.heartbeatTimeout / 4));
    this.tickTimer = this.p.timers.setInterval(() => this.tick(), every);
    this.p.placement.schedule();
  }

  stop(): void {
    this.p.placement.stop();
    this.p.events.closeAll();
    if (this.tickTimer !== undefined) this.p.timers.clearInterval(this.tickTimer);
    this.tickTimer = undefined;
  }

  // ---------------------------------------------------------------- jobs

  /** Every job, ended ones included, oldest first. */
  jobs(): JobRecord[] {
    const { store } = this.p;
    return [...Object.values(store.archived), ...Object.values(store.data.jobs)].sort((a, b) =>
      a.createdAt === b.createdAt ? a.id.localeCompare(b.id) : a.createdAt.localeCompare(b.createdAt),
    );
  }

  job(id: string): JobRecord {
    const job = id ? this.p.store.job(id) : undefined;
    if (!job) throw new NotFoundError('job', id || '(empty id)');
    return job;
  }

  submit(req: SubmitJobRequest): Promise<JobRecord> {
    return this.p.commands.submit(req);
  }

  cancel(id: string): Promise<JobRecord> {
    return this.p.commands.cancel(this.job(id));
  }

  /** Streams a job's consoles (`brine logs`), following it across moves with `follow`. */
  logs(id: string, vm: string, follow: boolean, write: (p: LogPiece) => void, signal: AbortSignal): Promise<void> {
    return this.p.logs.stream(this.job(id), vm, follow, write, signal);
  }

  /** Streams the files of an ended job's output disks (`brine output`). */
  output(id: string, vm: string, write: (c: OutputChunk) => Promise<void> | void, signal: AbortSignal): Promise<void> {
    return this.p.outputs.stream(this.job(id), vm, write, signal);
  }

  /** Runs a placement pass soon (passes never overlap). */
  schedulePlacement(): void {
    this.p.placement.schedule();
  }

  // ---------------------------------------------------------------- snapshots and operations

  /** The catalog's snapshots of a job, oldest first. */
  snapshots(jobId: string): Snapshot[] {
    this.job(jobId);
    return this.p.catalog.of(jobId);
  }

  snapshot(id: string, reason = 'requested by user'): Promise<Snapshot> {
    return this.p.operations.snapshot(this.job(id), reason);
  }

  async suspend(id: string): Promise<JobRecord> {
    const job = this.job(id);
    await this.p.operations.suspend(job);
    return job;
  }

  resume(id: string, site?: string): Promise<JobRecord> {
    return this.p.operations.resume(this.job(id), site);
  }

  migrate(id: string, to: string, reason = 'requested by user', opts: { precopy?: boolean } = {}): Promise<JobRecord> {
    return this.p.moves.migrate(this.job(id), to, reason, opts);
  }

  // ---------------------------------------------------------------- preemption

  reclaim(siteName: string, nodes: readonly string[], grace: string): Promise<Site> {
    return this.p.preemption.reclaim(siteName, nodes, grace);
  }

  releaseNodes(siteName: string, nodes: readonly string[]): Promise<Site> {
    return this.p.preemption.release(siteName, nodes);
  }

  /** What a site's agent reclaimed by itself while this coordinator was away; returns the revision recorded (0: none). */
  async acceptLocalReclaim(siteName: string, report: LocalReclaimReport | null): Promise<number> {
    if (!report) return 0;
    const { grid, store, log, placement } = this.p;
    const out = applyLocalReclaimReport({ data: store.data, setState: (j, s, r) => grid.setState(j, s, r), log }, siteName, report);
    if (out.changed) {
      await grid.commit();
      placement.schedule();
    }
    return out.recorded ? report.revision : 0;
  }

  // ---------------------------------------------------------------- sites

  isUp(site: string): boolean {
    return this.p.registry.isUp(site);
  }

  sites(): Site[] {
    return this.p.registry.views();
  }

  /** (admin) Forgets a DOWN site no live job is placed on; its pool is free again. */
  removeSite(name: string): Promise<Site> {
    return this.p.registry.remove(name);
  }

  addresses(site?: string): Lease[] {
    if (site) checkName(site, 'site');
    if (site && !this.p.store.data.sites[site]) throw new NotFoundError('site', site);
    return this.p.allocator.flatLeases(site || undefined);
  }

  register(req: RegisterRequest): Promise<{ session: string; heartbeatIntervalMs: number }> {
    return this.p.registry.register(req);
  }

  heartbeat(site: string, session: string, clusters: ClusterStatus[]): Promise<string[]> {
    return this.p.registry.heartbeat(site, session, clusters);
  }

  reportStatus(site: string, session: string, cluster: ClusterStatus): Promise<void> {
    return this.p.registry.reportStatus(site, session, cluster);
  }

  /** The live indexes, dumped (tests compare them with a rebuild from the records). */
  indexDump(): { live: string; rebuilt: string } {
    const rebuilt = new JobIndex();
    rebuilt.rebuild(Object.values(this.p.store.data.jobs));
    return { live: this.p.index.dump(), rebuilt: rebuilt.dump() };
  }

  /** The housekeeping tick: settle marks, liveness, failover, periodic checkpoints. */
  private tick(): void {
    const { flags, registry, failover, operations, clock, store, log } = this.p;
    const now = clock.now().getTime();
    flags.sweep(now);
    registry.checkLiveness();
    failover.check();
    const due = dueCheckpoints({ now, jobs: Object.values(store.data.jobs), snapshot: (id) => store.data.snapshots[id], inflight: flags.inflight, isUp: (s) => registry.isUp(s) });
    for (const job of due) {
      operations.snapshot(job, `periodic, every ${job.checkpointEvery}`).catch((err: unknown) => log.warn({ job: job.id, err: errorMessage(err) }, 'periodic checkpoint failed'));
    }
  }
}
