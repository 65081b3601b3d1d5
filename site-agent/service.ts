// AgentService: the coordinator's calls into this site. Every call is idempotent (DESIGN.md), and
// calls for one job never interleave: the cluster manager runs them under a per-job lock, so a
// retried deploy and a destroy (or a fencing destroy) of the same job run one after the other.
import { status as grpcStatus } from '@grpc/grpc-js';
import type * as grpc from '@grpc/grpc-js';
import { BrineError, InvalidArgumentError, toGrpcError } from '../src/shared/errors.js';
import type { GridMembership } from './grid-membership.js';
import type { Logger } from '../src/shared/logger.js';
import type { ClusterSpec, ClusterStatus, Snapshot } from '../src/shared/proto.js';
import type { AgentServiceHandlers } from '../src/gen/brine/v1/AgentService.js';
import { validateClusterSpec, type NodeCapacity, type SiteFacts } from './clusters.js';
import type { ImageConfig } from './config.js';
import type { TransferHandlers } from './transfer/index.js';
import type { Consoles } from './consoles.js';
import type { Outputs } from './outputs.js';
import type { LocalReclaims } from './local-reclaim.js';

/** What the service needs from the cluster manager. */
export interface ClusterBackend {
  deploy(spec: ClusterSpec): Promise<ClusterStatus>;
  destroy(jobId: string, reason?: string): Promise<ClusterStatus>;
  status(): Promise<ClusterStatus[]>;
  networkXml(jobId: string): Promise<string>;
}

/** What the service needs for snapshots (./snapshots.ts, ClusterSnapshots). */
export interface SnapshotBackend {
  take(input: { jobId: string; snapshotId: string; kind: string; operationId?: string }): Promise<Snapshot>;
  restore(spec: ClusterSpec, snapshotId: string): Promise<ClusterStatus>;
  prune(jobId: string, keep: number): Promise<string[]>;
}

/** What the service needs for consoles (./consoles.ts). */
export type ConsoleBackend = Pick<Consoles, 'keep' | 'read'>;

export interface AgentServiceOptions {
  clusters: ClusterBackend;
  snapshots: SnapshotBackend;
  /** consoles for `brine logs`; without it ReadConsole answers UNIMPLEMENTED and none is kept */
  consoles?: ConsoleBackend;
  /** output disks for `brine output` (./outputs.ts); without it ReadOutput answers UNIMPLEMENTED and none is kept */
  outputs?: Pick<Outputs, 'keep' | 'read'>;
  site: SiteFacts;
  logger: Logger;
  /** snapshot transfers between agents (./transfer/); without it those calls answer UNIMPLEMENTED */
  transfers?: TransferHandlers;
  /** reclaims without the coordinator (./local-reclaim.ts); without it those calls answer UNIMPLEMENTED and no node is ever closed */
  local?: Pick<LocalReclaims, 'reclaim' | 'release' | 'checkOpen'>;
  /** the grid this agent belongs to and the clusters it keeps for it (GetStatus) */
  membership?: GridMembership;
}

const unimplemented = (method: string) => (call: { emit(e: string, err: unknown): unknown }): void => {
  call.emit('error', { code: grpcStatus.UNIMPLEMENTED, details: `${method}: snapshot transfers are not enabled on this agent` });
};

/** Runs `fn` and answers the call: a typed error becomes its gRPC status (INVALID_ARGUMENT names the field). */
function answer<Req, Res>(
  log: Logger,
  method: string,
  fn: (req: Req) => Promise<Res>,
): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    fn(call.request).then(
      (res) => callback(null, res),
      (err: unknown) => {
        const e = toGrpcError(err);
        log.warn({ method, code: e.code, err: e.details }, 'call failed');
        callback(e);
      },
    );
  };
}

/**
 * Answers a server-streaming call from `items`, waiting for the client when its buffer is full
 * (never all in memory); a cancelled call aborts the source; a failure becomes its gRPC status.
 */
function streamOut<Req, T>(
  log: Logger,
  method: string,
  call: grpc.ServerWritableStream<Req, T>,
  ids: { job: string; vm: string },
  items: (signal: AbortSignal) => AsyncIterable<T>,
): void {
  const ac = new AbortController();
  call.on('cancelled', () => ac.abort());
  void (async () => {
    try {
      for await (const item of items(ac.signal)) {
        if (!call.write(item)) await new Promise<void>((resolve) => call.once('drain', () => resolve()));
      }
      call.end();
    } catch (err) {
      const e = toGrpcError(err);
      log.warn({ method, ...ids, code: e.code, err: e.details }, 'call failed');
      call.emit('error', e);
    }
  })();
}

export function createAgentHandlers(o: AgentServiceOptions): AgentServiceHandlers {
  const log = o.logger;
  return {
    DeployCluster: answer(log, 'DeployCluster', async (req) => {
      const spec = req.cluster;
      if (!spec) throw new InvalidArgumentError('cluster', 'required');
      validateClusterSpec(spec, o.site, 'cluster');
      o.local?.checkOpen(spec.vms.map((v) => v.node), 'cluster.vms');
      const jlog = log.child({ job: spec.jobId });
      jlog.info({ operationId: req.operationId, vms: spec.vms.length, image: spec.image }, 'deploy requested');
      const status = await o.clusters.deploy(spec);
      jlog.info({ operationId: req.operationId, network: status.network, vms: status.vms.map((v) => `${v.name}:${v.state}`) }, 'deployed');
      return status;
    }),
    DestroyCluster: answer(log, 'DestroyCluster', async (req) => {
      if (!req.jobId) throw new InvalidArgumentError('jobId', 'required');
      if (!Number.isSafeInteger(req.keepConsolesForMs) || req.keepConsolesForMs < 0) {
        throw new InvalidArgumentError('keepConsolesForMs', `a whole number of ms ≥ 0, got ${req.keepConsolesForMs}`);
      }
      if (!Number.isSafeInteger(req.keepOutputForMs) || req.keepOutputForMs < 0) {
        throw new InvalidArgumentError('keepOutputForMs', `a whole number of ms ≥ 0, got ${req.keepOutputForMs}`);
      }
      log.child({ job: req.jobId }).info({ operationId: req.operationId, keepConsolesForMs: req.keepConsolesForMs, keepOutputForMs: req.keepOutputForMs }, 'destroy requested');
      // the job ended: what its guests printed and wrote stays readable (`brine logs`, `brine output`) for a while
      if (req.keepConsolesForMs > 0 && o.consoles) await o.consoles.keep(req.jobId, req.keepConsolesForMs);
      if (req.keepOutputForMs > 0 && o.outputs) await o.outputs.keep(req.jobId, req.keepOutputForMs);
      return o.clusters.destroy(req.jobId, 'requested by the coordinator');
    }),
    GetStatus: answer(log, 'GetStatus', async (req) => {
      const clusters = await o.clusters.status();
      if (req.includeNetworkXml) {
        for (const c of clusters) c.networkXml = c.network ? await o.clusters.networkXml(c.jobId) : '';
      }
      return { clusters, gridId: o.membership?.gridId ?? '', keptJobs: o.membership?.keptJobs ?? [] };
    }),
    TakeSnapshot: answer(log, 'TakeSnapshot', async (req) => {
      if (!req.jobId) throw new InvalidArgumentError('jobId', 'required');
      if (!req.snapshotId) throw new InvalidArgumentError('snapshotId', 'required');
      const jlog = log.child({ job: req.jobId, snapshot: req.snapshotId });
      jlog.info({ operationId: req.operationId, kind: req.kind }, 'snapshot requested');
      const snap = await o.snapshots.take({ jobId: req.jobId, snapshotId: req.snapshotId, kind: req.kind, operationId: req.operationId });
      jlog.info({ operationId: req.operationId, kind: snap.kind, totalBytes: snap.totalBytes, newBytes: snap.newBytes, downtimeMs: snap.downtimeMs }, 'snapshot taken');
      return snap;
    }),
    RestoreCluster: answer(log, 'RestoreCluster', async (req) => {
      const spec = req.cluster;
      if (!spec) throw new InvalidArgumentError('cluster', 'required');
      if (!req.snapshotId) throw new InvalidArgumentError('snapshotId', 'required');
      validateClusterSpec(spec, o.site, 'cluster');
      o.local?.checkOpen(spec.vms.map((v) => v.node), 'cluster.vms');
      const jlog = log.child({ job: spec.jobId, snapshot: req.snapshotId });
      jlog.info({ operationId: req.operationId, vms: spec.vms.length }, 'restore requested');
      const status = await o.snapshots.restore(spec, req.snapshotId);
      jlog.info({ operationId: req.operationId, vms: status.vms.map((v) => `${v.name}:${v.state}`) }, 'restored');
      return status;
    }),
    PruneSnapshots: answer(log, 'PruneSnapshots', async (req) => {
      if (!req.jobId) throw new InvalidArgumentError('jobId', 'required');
      return { deleted: await o.snapshots.prune(req.jobId, req.keep) };
    }),
    ReadConsole: (call) => {
      const req = call.request;
      const consoles = o.consoles;
      if (!consoles) return void call.emit('error', { code: grpcStatus.UNIMPLEMENTED, details: 'ReadConsole: consoles are not enabled on this agent' });
      streamOut(log, 'ReadConsole', call, { job: req.jobId, vm: req.vm }, (signal) => consoles.read(req.jobId, req.vm, req.offset, req.follow, signal));
    },
    ReadOutput: (call) => {
      const req = call.request;
      const outputs = o.outputs;
      if (!outputs) return void call.emit('error', { code: grpcStatus.UNIMPLEMENTED, details: 'ReadOutput: output disks are not enabled on this agent' });
      streamOut(log, 'ReadOutput', call, { job: req.jobId, vm: req.vm }, (signal) => outputs.read(req.jobId, req.vm, signal));
    },
    // Agent to agent (issue 6): the destination pulls, the source serves; see ./transfer/.
    FetchSnapshot: o.transfers?.FetchSnapshot ?? unimplemented('FetchSnapshot'),
    GetManifest:
      o.transfers?.GetManifest ??
      ((_call, callback) => callback({ code: grpcStatus.UNIMPLEMENTED, details: 'GetManifest: snapshot transfers are not enabled on this agent' })),
    ReadChunks: o.transfers?.ReadChunks ?? unimplemented('ReadChunks'),
    // The site's own hooks, when the coordinator is unreachable (./local-reclaim.ts).
    LocalReclaim: answer(log, 'LocalReclaim', async (req) => {
      if (!o.local) throw new BrineError('INTERNAL', 'LocalReclaim: this agent was started without local reclaims');
      return o.local.reclaim(req.nodes, req.grace, req.ignoreUnknown);
    }),
    LocalRelease: answer(log, 'LocalRelease', async (req) => {
      if (!o.local) throw new BrineError('INTERNAL', 'LocalRelease: this agent was started without local reclaims');
      return o.local.release(req.nodes, req.ignoreUnknown);
    }),
  };
}
