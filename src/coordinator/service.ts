// gRPC handlers: JobService (for the CLI) and RegistryService (for agents), thin adapters over
// the Coordinator. Every error goes through one mapping point (toGrpcError).
import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import type * as grpc from '@grpc/grpc-js';
import { toGrpcError } from '../shared/errors.js';
import type { JobServiceHandlers } from '../gen/brine/v1/JobService.js';
import type { RegistryServiceHandlers } from '../gen/brine/v1/RegistryService.js';
import type { Logger } from '../shared/logger.js';
import { toJobMessage, type Coordinator } from './coordinator.js';

type Unary<Req, Res> = (call: grpc.ServerUnaryCall<Req, Res>, callback: grpc.sendUnaryData<Res>) => void;

function unary<Req, Res>(log: Logger, name: string, fn: (req: Req) => Promise<Res> | Res): Unary<Req, Res> {
  return (call, callback) => {
    Promise.resolve()
      .then(() => fn(call.request))
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

export function jobServiceHandlers(c: Coordinator, log: Logger): JobServiceHandlers {
  return {
    ListSites: unary(log, 'ListSites', () => ({ sites: c.sites() })),
    SubmitJob: unary(log, 'SubmitJob', async (req) => toJobMessage(await c.submit(req))),
    GetJob: unary(log, 'GetJob', (req) => toJobMessage(c.job(req.id))),
    ListJobs: unary(log, 'ListJobs', () => ({ jobs: c.jobs().map(toJobMessage) })),
    CancelJob: unary(log, 'CancelJob', async (req) => toJobMessage(await c.cancel(req.id))),
    ListAddresses: unary(log, 'ListAddresses', (req) => ({ leases: c.addresses(req.site) })),
    SnapshotJob: unary(log, 'SnapshotJob', (req) => c.snapshot(req.id)),
    ListSnapshots: unary(log, 'ListSnapshots', (req) => ({ snapshots: c.snapshots(req.job) })),
    SuspendJob: unary(log, 'SuspendJob', async (req) => toJobMessage(await c.suspend(req.id))),
    ResumeJob: unary(log, 'ResumeJob', async (req) => toJobMessage(await c.resume(req.id, req.site || undefined))),
    MigrateJob: unary(log, 'MigrateJob', async (req) => toJobMessage(await c.migrate(req.id, req.to, undefined, { precopy: !req.noPrecopy }))),
    ReclaimNodes: unary(log, 'ReclaimNodes', (req) => c.reclaim(req.site, req.nodes, req.grace)),
    ReleaseNodes: unary(log, 'ReleaseNodes', (req) => c.releaseNodes(req.site, req.nodes)),
    Watch: (call) => {
      const job = call.request.job;
      if (job) {
        try {
          c.job(job);
        } catch (err) {
          call.destroy(Object.assign(new Error(), toGrpcError(err)) as ServiceError);
          return;
        }
      }
      const unsubscribe = c.events.subscribe((event) => {
        if (event === null) {
          call.destroy(Object.assign(new Error('coordinator stopping'), { code: status.UNAVAILABLE, details: 'coordinator stopping' }));
        } else if (!job || event.job === job) {
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
  };
}

export function registryServiceHandlers(c: Coordinator, log: Logger): RegistryServiceHandlers {
  return {
    Register: unary(log, 'Register', (req) => c.register(req)),
    Heartbeat: unary(log, 'Heartbeat', async (req) => ({ placedJobs: await c.heartbeat(req.site, req.session, req.clusters) })),
    ReportStatus: unary(log, 'ReportStatus', async (req) => {
      if (req.cluster) await c.reportStatus(req.site, req.session, req.cluster);
      return {};
    }),
  };
}
