// The agent's side of the coordinator's registry: register (retrying while the coordinator is
// unreachable), heartbeat with the site's clusters, re-register when the coordinator forgot the
// session, push status changes, and fence off clusters the coordinator no longer places here.
import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import type { Logger } from '../src/shared/logger.js';
import { CLIENT_OPTIONS, RegistryService, type ClusterStatus } from '../src/shared/proto.js';
import { TLS_CLIENT_OPTIONS } from '../src/shared/tls.js';
import type { RegistryServiceClient } from '../src/gen/brine/v1/RegistryService.js';
import type { RegisterRequest } from '../src/gen/brine/v1/RegisterRequest.js';
import type { RegisterResponse__Output } from '../src/gen/brine/v1/RegisterResponse.js';
import type { HeartbeatRequest } from '../src/gen/brine/v1/HeartbeatRequest.js';
import type { HeartbeatResponse__Output } from '../src/gen/brine/v1/HeartbeatResponse.js';
import type { ReportStatusRequest } from '../src/gen/brine/v1/ReportStatusRequest.js';
import type { LocalReclaimReport } from '../src/gen/brine/v1/LocalReclaimReport.js';
import type { GridMembership } from './grid-membership.js';

/** The coordinator's registry, as the agent needs it (a fake in tests). Errors carry a gRPC `code`. */
export interface Registry {
  register(req: RegisterRequest): Promise<RegisterResponse__Output>;
  heartbeat(req: HeartbeatRequest): Promise<HeartbeatResponse__Output>;
  reportStatus(req: ReportStatusRequest): Promise<void>;
  close(): void;
  /** the coordinator address calls go to now (for messages) */
  readonly address?: string;
}

/**
 * The registry over one or more coordinator addresses. Only the leader of an HA grid listens
 * (standbys serve nothing), so a call that cannot reach the coordinator, or times out, moves the
 * next call to the next address: the registration loop's retries find the leader.
 */
export class GrpcRegistry implements Registry {
  private readonly clients: RegistryServiceClient[];
  private current = 0;

  constructor(
    private readonly addresses: readonly string[],
    credentials: grpc.ChannelCredentials,
    private readonly timeoutMs = 5_000,
  ) {
    this.clients = addresses.map((a) => new RegistryService(a, credentials, { ...CLIENT_OPTIONS, ...TLS_CLIENT_OPTIONS }));
  }

  get address(): string {
    return this.addresses[this.current] ?? '';
  }

  private call<T>(invoke: (client: RegistryServiceClient, options: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: T) => void) => void): Promise<T> {
    const at = this.current;
    const client = this.clients[at];
    if (!client) return Promise.reject(new Error('no coordinator address'));
    return new Promise<T>((resolve, reject) =>
      invoke(client, { deadline: Date.now() + this.timeoutMs }, (err, res) => {
        if (err && (err.code === grpc.status.UNAVAILABLE || err.code === grpc.status.DEADLINE_EXCEEDED) && this.current === at) {
          this.current = (at + 1) % this.clients.length;
        }
        if (err || res === undefined) reject(err ?? new Error('empty answer'));
        else resolve(res);
      }),
    );
  }

  register(req: RegisterRequest): Promise<RegisterResponse__Output> {
    return this.call<RegisterResponse__Output>((c, o, cb) => c.Register(req, o, (err, res) => cb(err, res)));
  }

  heartbeat(req: HeartbeatRequest): Promise<HeartbeatResponse__Output> {
    return this.call<HeartbeatResponse__Output>((c, o, cb) => c.Heartbeat(req, o, (err, res) => cb(err, res)));
  }

  reportStatus(req: ReportStatusRequest): Promise<void> {
    return this.call<true>((c, o, cb) => c.ReportStatus(req, o, (err) => cb(err, true))).then(() => undefined);
  }

  close(): void {
    for (const c of this.clients) c.close();
  }
}

function grpcCode(err: unknown): number | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

function fieldOf(err: unknown): string | undefined {
  const md = (err as { metadata?: grpc.Metadata } | null)?.metadata;
  return md?.get?.('brine-field')[0]?.toString();
}

function errText(err: unknown): string {
  const e = err as { details?: string; message?: string } | null;
  return e?.details || e?.message || String(err);
}

/**
 * The agent's instance id, kept in `<dataDir>/agent-instance`: a restarted agent of a site presents
 * the same id and takes its site back at once; a second agent (another data dir) has another id
 * and is refused while the first one is alive.
 */
export async function loadInstanceId(dataDir: string): Promise<string> {
  const file = join(dataDir, 'agent-instance');
  try {
    const id = (await readFile(file, 'utf8')).trim();
    if (id) return id;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const id = randomUUID();
  await mkdir(dataDir, { recursive: true });
  await writeFile(`${file}.tmp`, `${id}\n`);
  await rename(`${file}.tmp`, file);
  return id;
}

/** What the agent did while the coordinator was away (./local-reclaim.ts), sent until acknowledged. */
export interface LocalReclaimSource {
  report(): Promise<LocalReclaimReport | null>;
  acknowledge(revision: number): Promise<void>;
}

/** What the registrar needs from the cluster manager. */
export interface ClusterSource {
  status(): Promise<ClusterStatus[]>;
  fenceMark(): number;
  fence(placedJobs: Iterable<string>, mark: number): Promise<string[]>;
}

export interface SiteDescription {
  site: string;
  advertise: string;
  nodes: { name: string; uri: string; cpus: number; memoryMiB: number; arch: string; domainType: string; domainTypes: string[]; cpuModel: string }[];
  images: string[];
  subnetPool: string;
  macRange: string;
  /** e.g. "30m" */
  defaultCheckpointEvery: string;
  /** snapshots kept per job (config snapshots.keep) */
  snapshotsKeep: number;
  /** other sites each checkpoint is copied to (config snapshots.replicas); absent: 0 */
  snapshotsReplicas?: number;
  /** network.egress is nat (absent: no) */
  egress?: boolean;
  /** outputDisk.max in MiB (absent: 0, none) */
  maxOutputDiskMiB?: number;
}

export interface RegistrarOptions {
  describe: SiteDescription;
  instance: string;
  clusters: ClusterSource;
  registry: Registry;
  /** for messages: where the coordinator is */
  coordinator: string;
  logger: Logger;
  /** the coordinator refused this agent for good (e.g. the site name is held by another live agent) */
  onFatal: (message: string, exitCode: number) => void;
  /** register retry backoff (default 250 ms doubling to 5 s) */
  backoff?: { initialMs: number; maxMs: number };
  /** used when the coordinator answers 0 */
  defaultHeartbeatMs?: number;
  /** local reclaims to report (read after the clusters' status, so a cluster is in one or the other) */
  local?: LocalReclaimSource;
  /** the grid this agent belongs to (./grid-membership.ts); absent: no grid check (unit tests) */
  membership?: GridMembership;
}

export class Registrar {
  private readonly o: RegistrarOptions;
  private readonly log: Logger;
  private session: string | null = null;
  private heartbeatMs = 0;
  private stopped = false;
  private running: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private reports: Promise<void> = Promise.resolve();
  private registeredWaiters: (() => void)[] = [];
  /** the last logged connectivity problem, so a retry loop logs once per change, not per attempt */
  private lastProblem: string | null = null;

  constructor(options: RegistrarOptions) {
    this.o = options;
    this.log = options.logger.child({ site: options.describe.site });
  }

  get currentSession(): string | null {
    return this.session;
  }

  start(): void {
    if (this.running) return;
    this.running = this.run().catch((err: unknown) => {
      this.log.error({ err: errText(err) }, 'registration loop failed');
      this.o.onFatal(`registration loop failed: ${errText(err)}`, 1);
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.running;
    await this.reports;
    for (const w of this.registeredWaiters) w();
    this.registeredWaiters = [];
  }

  /** Resolves once registered (or stopped). */
  registered(): Promise<void> {
    if (this.session || this.stopped) return Promise.resolve();
    return new Promise((resolve) => this.registeredWaiters.push(resolve));
  }

  /** Pushes a cluster's changed status now; the next heartbeat carries it anyway if this fails. */
  report(cluster: ClusterStatus): void {
    const session = this.session;
    if (!session || this.stopped) return;
    this.reports = this.reports.then(async () => {
      try {
        await this.o.registry.reportStatus({ site: this.o.describe.site, session, cluster });
        this.log.debug({ job: cluster.jobId }, 'status reported');
      } catch (err) {
        this.log.debug({ job: cluster.jobId, err: errText(err) }, 'status report failed; the next heartbeat carries it');
      }
    });
  }

  private sleep(ms: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.wake = null;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(t);
        this.wake = null;
        resolve();
      };
    });
  }

  /** The unacknowledged local reclaims, or null (a failure to read them is logged; the next call retries). */
  private async localReport(): Promise<LocalReclaimReport | null> {
    try {
      return (await this.o.local?.report()) ?? null;
    } catch (err) {
      this.log.error({ err: errText(err) }, 'cannot read the local reclaims to report; the next heartbeat tries again');
      return null;
    }
  }

  private async acknowledged(sent: LocalReclaimReport | null, acked: number): Promise<void> {
    if (!sent || !this.o.local) return;
    if (acked !== sent.revision) {
      this.log.debug({ revision: sent.revision, acked }, 'the coordinator did not record the local reclaims yet; reporting them again');
      return;
    }
    try {
      await this.o.local.acknowledge(acked);
    } catch (err) {
      this.log.error({ err: errText(err) }, 'cannot record that the coordinator has the local reclaims; they are reported again (it applies them once)');
    }
  }

  /** where the registry calls go now */
  private where(): string {
    return this.o.registry.address ?? this.o.coordinator;
  }

  private problem(kind: string, fields: Record<string, unknown>, msg: string): void {
    if (this.lastProblem === kind) return;
    this.lastProblem = kind;
    this.log.warn(fields, msg);
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      if (!(await this.registerLoop())) return;
      await this.heartbeatLoop();
    }
  }

  /** false: stop (stopped, or refused for good). */
  private async registerLoop(): Promise<boolean> {
    const { initialMs, maxMs } = this.o.backoff ?? { initialMs: 250, maxMs: 5_000 };
    let delay = initialMs;
    while (!this.stopped) {
      const d = this.o.describe;
      let clusters: ClusterStatus[];
      try {
        clusters = await this.o.clusters.status();
      } catch (err) {
        this.problem('libvirt', { err: errText(err) }, 'cannot read the clusters from libvirt; retrying before registering');
        await this.sleep(delay);
        delay = Math.min(delay * 2, maxMs);
        continue;
      }
      const localReclaim = await this.localReport();
      try {
        const res = await this.o.registry.register({
          site: d.site,
          advertise: d.advertise,
          nodes: d.nodes,
          images: d.images,
          subnetPool: d.subnetPool,
          macRange: d.macRange,
          instance: this.o.instance,
          clusters,
          defaultCheckpointEvery: d.defaultCheckpointEvery,
          snapshotsKeep: d.snapshotsKeep,
          snapshotsReplicas: d.snapshotsReplicas ?? 0,
          egress: d.egress === true,
          maxOutputDiskMiB: d.maxOutputDiskMiB ?? 0,
          localReclaim,
          gridId: this.o.membership?.gridId ?? '',
          epoch: this.o.membership?.epoch ?? 0,
        });
        const refusal = this.o.membership?.refusal(res.gridId, res.epoch);
        if (refusal) {
          // never fatal: the clusters stay, keep running and are reported to whoever asks
          this.problem('grid', { coordinator: this.where(), grid: res.gridId, epoch: res.epoch }, `refusing the coordinator at ${this.where()}: ${refusal}; keeping every cluster, retrying`);
          await this.sleep(maxMs);
          continue;
        }
        await this.o.membership?.accept(res.gridId, res.epoch);
        await this.acknowledged(localReclaim, res.localReclaimAcked);
        this.session = res.session;
        this.heartbeatMs = Math.max(100, res.heartbeatIntervalMs || this.o.defaultHeartbeatMs || 2_000);
        this.lastProblem = null;
        this.log.info(
          { coordinator: this.where(), heartbeatMs: this.heartbeatMs, clusters: clusters.length, instance: this.o.instance },
          'registered with the coordinator',
        );
        for (const w of this.registeredWaiters) w();
        this.registeredWaiters = [];
        return true;
      } catch (err) {
        const code = grpcCode(err);
        if (code === grpc.status.ALREADY_EXISTS) {
          // Another live agent holds this site name (the coordinator's message says which).
          this.fatal(`the coordinator at ${this.where()} refused site "${this.o.describe.site}": ${errText(err)}`, 1);
          return false;
        }
        if (code === grpc.status.FAILED_PRECONDITION && fieldOf(err) === 'gridId') {
          // a coordinator of another grid (or an older epoch): not fatal, the clusters stay
          this.problem('grid', { coordinator: this.where(), err: errText(err) }, `the coordinator at ${this.where()} is not this agent's grid: keeping every cluster, retrying`);
          await this.sleep(maxMs);
          continue;
        }
        if (code === grpc.status.INVALID_ARGUMENT || code === grpc.status.FAILED_PRECONDITION) {
          this.fatal(`the coordinator at ${this.where()} refused site "${this.o.describe.site}": ${errText(err)}`, 2);
          return false;
        }
        this.problem(
          `register:${code}`,
          { coordinator: this.where(), err: errText(err) },
          `cannot register with the coordinator at ${this.where()}; retrying until it answers`,
        );
        // Jitter so a coordinator restart is not met by every site's agent at the same instant.
        await this.sleep(delay * (0.75 + Math.random() / 2));
        delay = Math.min(delay * 2, maxMs);
      }
    }
    return false;
  }

  private fatal(message: string, exitCode: number): void {
    this.stopped = true;
    this.log.error({ coordinator: this.where() }, message);
    this.o.onFatal(message, exitCode);
  }

  private async heartbeatLoop(): Promise<void> {
    while (!this.stopped && this.session) {
      await this.sleep(this.heartbeatMs);
      if (this.stopped) return;
      const session = this.session;
      // Taken before the request is sent: only clusters deployed before this instant may be fenced
      // by the answer (a deploy arriving meanwhile is newer than the coordinator's list).
      const mark = this.o.clusters.fenceMark();
      let placedJobs: string[];
      let clusters: ClusterStatus[];
      try {
        clusters = await this.o.clusters.status();
      } catch (err) {
        // Never heartbeat an empty or partial list: the coordinator would take it as VMs gone.
        this.problem('libvirt', { err: errText(err) }, 'cannot read the clusters from libvirt; heartbeat skipped');
        continue;
      }
      const localReclaim = await this.localReport();
      let unknownJobs: string[] = [];
      try {
        const res = await this.o.registry.heartbeat({ site: this.o.describe.site, session, clusters, localReclaim });
        const refusal = this.o.membership?.refusal(res.gridId, res.epoch);
        if (refusal) {
          this.log.error({ coordinator: this.where(), grid: res.gridId, epoch: res.epoch }, `heartbeat answer refused, nothing fenced: ${refusal}`);
          this.session = null;
          return;
        }
        placedJobs = res.placedJobs;
        unknownJobs = res.unknownJobs;
        await this.acknowledged(localReclaim, res.localReclaimAcked);
        if (this.lastProblem) this.log.info({ coordinator: this.where() }, 'heartbeats answered again');
        this.lastProblem = null;
      } catch (err) {
        const code = grpcCode(err);
        if (code === grpc.status.NOT_FOUND || code === grpc.status.UNAUTHENTICATED) {
          this.log.warn({ err: errText(err) }, 'the coordinator does not know this session (it restarted?); registering again');
          this.session = null;
          this.lastProblem = null;
          return;
        }
        if (code === grpc.status.ALREADY_EXISTS) {
          this.fatal(`the coordinator at ${this.where()} gave site "${this.o.describe.site}" to another agent: ${errText(err)}`, 1);
          return;
        }
        this.problem(`heartbeat:${code}`, { coordinator: this.where(), err: errText(err) }, 'heartbeat failed; retrying');
        continue;
      }
      if (unknownJobs.length > 0 && unknownJobs.join() !== (this.o.membership?.keptJobs ?? []).join()) {
        this.log.warn({ jobs: unknownJobs }, 'keeping clusters the coordinator does not know (its state may have been lost or restored): not fenced, reported in GetStatus');
      }
      this.o.membership?.setKept(unknownJobs);
      try {
        // a cluster whose job the coordinator never knew is kept: only what it knows and no longer places here goes
        const fenced = await this.o.clusters.fence([...placedJobs, ...unknownJobs], mark);
        if (fenced.length > 0) this.log.warn({ jobs: fenced }, 'fenced clusters the coordinator no longer places here');
      } catch (err) {
        this.log.error({ err: errText(err) }, 'fencing failed; the next heartbeat tries again');
      }
    }
  }
}
