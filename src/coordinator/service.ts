// gRPC handlers: JobService (for the CLI) and RegistryService (for agents), thin adapters over
// the Coordinator. Every error goes through one mapping point (toGrpcError). Every call is first
// authorized on the caller's certificate (./authz.ts).
import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import type * as grpc from '@grpc/grpc-js';
import { BrineError, NotFoundError, toGrpcError } from '../shared/errors.js';
import type { GridIdentity } from './identity.js';
import { listJobs, type JobSource } from './job-list.js';
import { isEnded } from './job-state.js';
import type { JobRecord } from './store.js';
import type { OutputChunk } from './agents.js';
import type { JobServiceHandlers } from '../gen/brine/v1/JobService.js';
import type { RegistryServiceHandlers } from '../gen/brine/v1/RegistryService.js';
import type { Logger } from '../shared/logger.js';
import type { Role } from '../shared/tls.js';
import { toJobMessage, type Coordinator } from './coordinator.js';
import { checkSizes, checkSubmit, quote, type SubmitLimits } from './limits.js';
import { checkSeedRequest } from './user-data.js';
import { USER_DATA_DEFAULT_MAX_KIB } from '../shared/seed-input.js';
import { callerFrom, ownerFor, requireJobAccess, requireRole, requireSelf, requireSiteOperator, seesJob, type Caller } from './authz.js';

type Unary<Req, Res> = (call: grpc.ServerUnaryCall<Req, Res>, callback: grpc.sendUnaryData<Res>) => void;

export interface ServiceOptions {
  /** --insecure: no certificates, every call allowed */
  insecure: boolean;
  /** a site registered (its name checked against its certificate) at `advertise` */
  onRegistered?: (site: string, advertise: string) => void;
  /** the config's limits; default: the 10 s checkpoint minimum, no quotas */
  limits?: SubmitLimits;
  /** this coordinator's grid and epoch (./identity.ts), told to agents; absent: none checked */
  grid?: GridIdentity;
  /** whether a job id was ever known to this coordinator (live or archived) */
  knowsJob?: (id: string) => boolean;
  /** the jobs ListJobs pages through (the store); absent: the coordinator's list */
  jobs?: JobSource<JobRecord>;
  clock?: { now(): Date };
}

function unary<Req, Res>(log: Logger, name: string, o: ServiceOptions, fn: (req: Req, caller: Caller) => Promise<Res> | Res): Unary<Req, Res> {
  return (call, callback) => {
    Promise.resolve()
      .then(() => {
        const caller = callerFrom(call, o.insecure);
        checkSizes(call.request as object);
        return fn(call.request, caller);
      })
      .then(
        (res) => callback(null, res),
        (err: unknown) => {
          const grpcErr = toGrpcError(err);
          log.debug({ rpc: name, code: grpcErr.code, err: grpcErr.details }, 'rpc failed');
          callback(grpcErr);
        },
      );
  };
}

/** A server-streaming call run by `fn` until it returns (then ended) or throws (then its gRPC status); cancelling it aborts `signal`. */
function streamCall<Req, Res>(log: Logger, name: string, call: grpc.ServerWritableStream<Req, Res>, o: ServiceOptions, fn: (caller: Caller, signal: AbortSignal) => Promise<void>): void {
  const ac = new AbortController();
  call.on('cancelled', () => ac.abort());
  void (async () => {
    try {
      await fn(callerFrom(call, o.insecure), ac.signal);
      call.end();
    } catch (err) {
      const e = toGrpcError(err);
      log.debug({ rpc: name, code: e.code, err: e.details }, 'rpc failed');
      call.emit('error', e);
    }
  })();
}

export function jobServiceHandlers(c: Coordinator, log: Logger, o: ServiceOptions = { insecure: false }): JobServiceHandlers {
  const reader: Role[] = ['user', 'admin', 'site'];
  /** the job, once the caller may act on it (NOT_FOUND first: a bad id is a bad id) */
  const limits: SubmitLimits = o.limits ?? { minCheckpointEveryMs: 10_000 };
  const owned = (caller: Caller, id: string, what: string) => {
    const job = c.job(id);
    // `__proto__`, `constructor`…: what a plain object lookup finds is not a job
    if (job.id !== id) throw new NotFoundError('job', quote(id));
    requireJobAccess(caller, job, what);
    return job;
  };
  return {
    ListSites: unary(log, 'ListSites', o, (_req, caller) => {
      requireRole(caller, reader, 'list sites');
      return { sites: c.sites() };
    }),
    SubmitJob: unary(log, 'SubmitJob', o, async (req, caller) => {
      const owner = ownerFor(caller, req.owner);
      // the jobs are only read for quotas: without any, no per-submit pass over every job
      const quotas = limits.maxPendingJobs !== undefined || limits.maxRunningVms !== undefined;
      checkSubmit({ owner, vms: req.vms, checkpointEvery: req.checkpointEvery }, quotas ? c.jobs() : [], limits);
      checkSeedRequest(req, { userDataMaxBytes: limits.userDataMaxBytes ?? USER_DATA_DEFAULT_MAX_KIB * 1024 });
      return toJobMessage(await c.submit({ ...req, owner }));
    }),
    GetJob: unary(log, 'GetJob', o, (req, caller) => toJobMessage(owned(caller, req.id, 'see'))),
    ListJobs: unary(log, 'ListJobs', o, (req, caller) => {
      requireRole(caller, ['user', 'admin'], 'list jobs');
      const source: JobSource<JobRecord> = o.jobs ?? { liveJobs: () => c.jobs().filter((j) => !isEnded(j.state)), archivedJobs: () => c.jobs().filter((j) => isEnded(j.state)) };
      // the JSON length of a job is close to (above) its protobuf size: pages stay under gRPC's limit
      const page = listJobs(source, req, (o.clock ?? { now: () => new Date() }).now(), (j) => seesJob(caller, j), (j) => JSON.stringify(j).length);
      return { jobs: page.jobs.map(toJobMessage), nextPageToken: page.nextPageToken };
    }),
    CancelJob: unary(log, 'CancelJob', o, async (req, caller) => toJobMessage(await c.cancel(owned(caller, req.id, 'cancel').id))),
    ListAddresses: unary(log, 'ListAddresses', o, (req, caller) => {
      requireRole(caller, reader, 'list addresses');
      return { leases: c.addresses(req.site) };
    }),
    SnapshotJob: unary(log, 'SnapshotJob', o, (req, caller) => c.snapshot(owned(caller, req.id, 'snapshot').id)),
    ListSnapshots: unary(log, 'ListSnapshots', o, (req, caller) => {
      if (req.job) owned(caller, req.job, 'list the snapshots of');
      else requireRole(caller, ['admin'], 'list the snapshots of every job');
      return { snapshots: c.snapshots(req.job) };
    }),
    SuspendJob: unary(log, 'SuspendJob', o, async (req, caller) => toJobMessage(await c.suspend(owned(caller, req.id, 'suspend').id))),
    ResumeJob: unary(log, 'ResumeJob', o, async (req, caller) => toJobMessage(await c.resume(owned(caller, req.id, 'resume').id, req.site || undefined))),
    MigrateJob: unary(log, 'MigrateJob', o, async (req, caller) =>
      toJobMessage(await c.migrate(owned(caller, req.id, 'migrate').id, req.to, undefined, { precopy: !req.noPrecopy })),
    ),
    ReclaimNodes: unary(log, 'ReclaimNodes', o, (req, caller) => {
      requireSiteOperator(caller, req.site, 'reclaim nodes');
      return c.reclaim(req.site, req.nodes, req.grace);
    }),
    RemoveSite: unary(log, 'RemoveSite', o, (req, caller) => {
      requireRole(caller, ['admin'], 'remove a site');
      return c.removeSite(req.site);
    }),
    ReleaseNodes: unary(log, 'ReleaseNodes', o, (req, caller) => {
      requireSiteOperator(caller, req.site, 'release nodes');
      return c.releaseNodes(req.site, req.nodes);
    }),
    Watch: (call) => {
      const job = call.request.job;
      let caller: Caller;
      try {
        caller = callerFrom(call, o.insecure);
        if (job) owned(caller, job, 'watch');
        else requireRole(caller, ['user', 'admin'], 'watch');
      } catch (err) {
        call.destroy(Object.assign(new Error(), toGrpcError(err)) as ServiceError);
        return;
      }
      // a user sees only the events of its own jobs
      const visible = (id: string): boolean => {
        try {
          return seesJob(caller, c.job(id));
        } catch {
          return seesJob(caller, { owner: '' });
        }
      };
      const unsubscribe = c.events.subscribe((event) => {
        if (event === null) {
          call.destroy(Object.assign(new Error('coordinator stopping'), { code: status.UNAVAILABLE, details: 'coordinator stopping' }));
        } else if ((!job || event.job === job) && visible(event.job)) {
          call.write(event);
        }
      });
      // Tells the client its subscription is live, so it can read the current state without a gap.
      call.sendMetadata(new Metadata());
      const end = (): void => {
        unsubscribe();
      };
      call.on('cancelled', end);
      call.on('close', end);
      call.on('error', end);
    },
    Logs: (call) => {
      const req = call.request;
      streamCall(log, 'Logs', call, o, async (caller, signal) => {
        checkSizes(req);
        const job = owned(caller, req.job, 'read the logs of');
        await c.logs(job.id, req.vm, req.follow, (p) => call.write(p), signal);
      });
    },
    ReadOutput: (call) => {
      const req = call.request;
      streamCall(log, 'ReadOutput', call, o, async (caller, signal) => {
        checkSizes(req);
        const job = owned(caller, req.jobId, 'read the output of');
        // the agent's stream waits while the CLI has not taken what was sent (never all in memory)
        const write = (chunk: OutputChunk): Promise<void> | undefined => (call.write(chunk) ? undefined : new Promise<void>((resolve) => call.once('drain', () => resolve())));
        await c.output(job.id, req.vm, write, signal);
      });
    },
  };
}

/** An agent that belongs to another grid, or saw a newer coordinator, is refused (FAILED_PRECONDITION on `gridId`). */
function checkAgentGrid(grid: GridIdentity, req: { site: string; gridId: string; epoch: number }): void {
  if (req.gridId && req.gridId !== grid.gridId) {
    throw new BrineError(
      'FAILED_PRECONDITION',
      `site ${req.site} belongs to grid ${req.gridId}, and this coordinator serves grid ${grid.gridId} (a new grid, e.g. started with --init over a lost state): the agent keeps its clusters; restore the old grid's coordinator state, or delete grid.json in the agent's data dir to move the site to this grid`,
      { field: 'gridId' },
    );
  }
  if (req.epoch > grid.epoch) {
    throw new BrineError('FAILED_PRECONDITION', `site ${req.site} has seen coordinator epoch ${req.epoch} of grid ${grid.gridId}, newer than this one's ${grid.epoch}: another coordinator took over`, { field: 'gridId' });
  }
}

export function registryServiceHandlers(c: Coordinator, log: Logger, o: ServiceOptions = { insecure: false }): RegistryServiceHandlers {
  return {
    Register: unary(log, 'Register', o, async (req, caller) => {
      requireSelf(caller, req.site);
      if (o.grid) checkAgentGrid(o.grid, req);
      // before the clusters are reconciled: a locally suspended job's VMs are gone on purpose
      const localReclaimAcked = await c.acceptLocalReclaim(req.site, req.localReclaim);
      const res = await c.register(req);
      o.onRegistered?.(req.site, req.advertise);
      return { ...res, localReclaimAcked, gridId: o.grid?.gridId ?? '', epoch: o.grid?.epoch ?? 0 };
    }),
    Heartbeat: unary(log, 'Heartbeat', o, async (req, caller) => {
      requireSelf(caller, req.site);
      const localReclaimAcked = await c.acceptLocalReclaim(req.site, req.localReclaim);
      const placedJobs = await c.heartbeat(req.site, req.session, req.clusters);
      // what the agent runs and this coordinator never heard of: kept there, never fenced
      const unknownJobs = o.knowsJob ? req.clusters.map((x) => x.jobId).filter((id) => !o.knowsJob?.(id)) : [];
      return { placedJobs, localReclaimAcked, gridId: o.grid?.gridId ?? '', epoch: o.grid?.epoch ?? 0, unknownJobs };
    }),
    ReportStatus: unary(log, 'ReportStatus', o, async (req, caller) => {
      requireSelf(caller, req.site);
      if (req.cluster) await c.reportStatus(req.site, req.session, req.cluster);
      return {};
    }),
  };
}
