// Who may call this agent (README, Security): the control API only the coordinator (its
// certificate has role coordinator); the snapshot reads (GetManifest, ReadChunks) only another
// site of the grid; LocalReclaim/LocalRelease (and GetStatus) the site's own certificate, which its
// batch scheduler's hooks hold. --insecure allows everything.
import type * as grpc from '@grpc/grpc-js';
import { PermissionDeniedError, toGrpcError, UnauthenticatedError } from '../src/shared/errors.js';
import type { Logger } from '../src/shared/logger.js';
import { callerOf, type Role } from '../src/shared/tls.js';
import type { TicketVerifier } from '../src/shared/ticket.js';
import type { AgentServiceHandlers } from '../src/gen/brine/v1/AgentService.js';
import type { GridMembership } from './grid-membership.js';

type Authenticated = Parameters<typeof callerOf>[0];

/** Throws the refusal for a caller without one of `roles`; returns its name. */
export function checkCaller(call: Authenticated, roles: readonly Role[], method: string, insecure: boolean): string {
  if (insecure) return '';
  const id = callerOf(call);
  if (!id) throw new UnauthenticatedError(`${method}: present a certificate issued by the grid CA`);
  if (!roles.includes(id.role)) throw new PermissionDeniedError(`${method}: ${id.role} ${id.name} may not call this agent (needs ${roles.join(' or ')})`);
  return id.name;
}

/** How snapshot reads are allowed: none under --insecure, else a ticket checked against the CA. */
export type SnapshotReadPolicy = { insecure: true } | { insecure: false; tickets: TicketVerifier };

const CONTROL: readonly Role[] = ['coordinator'];
const PEER: readonly Role[] = ['site'];

/** Wraps every AgentService handler with its role check. */
export function guardAgentHandlers(h: AgentServiceHandlers, log: Logger, policy: SnapshotReadPolicy, site: string, membership?: GridMembership): AgentServiceHandlers {
  const insecure = policy.insecure;
  /** a call that changes or destroys: only from this agent's grid's coordinator, at its epoch or newer */
  const ownGrid = (method: string) => (call: Authenticated & { metadata: grpc.Metadata }): void => membership?.checkCall(call.metadata, method);
  // the site's own tooling (a batch scheduler hook with the site's certificate, when the
  // coordinator is unreachable) may read which VMs run here; another site may not
  const ownSite = (call: Authenticated): void => {
    if (insecure) return;
    const id = callerOf(call);
    if (id?.role === 'site' && id.name !== site) throw new PermissionDeniedError(`GetStatus: site ${id.name} may not read the status of ${site}`);
  };
  /** LocalReclaim/LocalRelease: only this site's own certificate (its batch scheduler's hooks) */
  const self = (method: string) => (call: Authenticated): void => {
    if (insecure) return;
    const id = callerOf(call);
    if (id?.name !== site) throw new PermissionDeniedError(`${method}: site ${id?.name} may not reclaim or release the nodes of ${site}`);
  };
  /** the snapshot reads: a site, holding the coordinator's ticket for that snapshot and itself */
  const reader = (call: Authenticated & { request: { snapshotId: string; ticket: string } }, method: string): void => {
    const site = checkCaller(call, PEER, method, insecure);
    if (!policy.insecure) policy.tickets.check(call.request.ticket, call.request.snapshotId, site);
  };
  /** The refusal (logged) for a call that may not go on, else null. */
  const admit = <C extends Authenticated>(call: C, roles: readonly Role[], method: string, extra?: (call: C) => void): ReturnType<typeof toGrpcError> | null => {
    try {
      checkCaller(call, roles, method, insecure);
      extra?.(call);
      return null;
    } catch (err) {
      const e = toGrpcError(err);
      log.warn({ method, code: e.code, err: e.details }, 'call refused');
      return e;
    }
  };
  const unary = <Req, Res>(method: string, roles: readonly Role[], fn: grpc.handleUnaryCall<Req, Res>, extra?: (call: grpc.ServerUnaryCall<Req, Res>) => void): grpc.handleUnaryCall<Req, Res> =>
    (call, callback) => {
      const refused = admit(call, roles, method, extra);
      if (refused) callback(refused);
      else fn(call, callback);
    };
  const stream = <Req, Res>(method: string, roles: readonly Role[], fn: grpc.handleServerStreamingCall<Req, Res>, extra?: (call: grpc.ServerWritableStream<Req, Res>) => void): grpc.handleServerStreamingCall<Req, Res> =>
    (call) => {
      const refused = admit(call, roles, method, extra);
      if (refused) call.emit('error', refused);
      else fn(call);
    };
  return {
    DeployCluster: unary('DeployCluster', CONTROL, h.DeployCluster, ownGrid('DeployCluster')),
    DestroyCluster: unary('DestroyCluster', CONTROL, h.DestroyCluster, ownGrid('DestroyCluster')),
    GetStatus: unary('GetStatus', [...CONTROL, ...PEER], h.GetStatus, ownSite),
    TakeSnapshot: unary('TakeSnapshot', CONTROL, h.TakeSnapshot, ownGrid('TakeSnapshot')),
    RestoreCluster: unary('RestoreCluster', CONTROL, h.RestoreCluster, ownGrid('RestoreCluster')),
    PruneSnapshots: unary('PruneSnapshots', CONTROL, h.PruneSnapshots, ownGrid('PruneSnapshots')),
    FetchSnapshot: stream('FetchSnapshot', CONTROL, h.FetchSnapshot, ownGrid('FetchSnapshot')),
    ReadConsole: stream('ReadConsole', CONTROL, h.ReadConsole),
    ReadOutput: stream('ReadOutput', CONTROL, h.ReadOutput),
    GetManifest: unary('GetManifest', PEER, h.GetManifest, (call) => reader(call, 'GetManifest')),
    ReadChunks: stream('ReadChunks', PEER, h.ReadChunks, (call) => reader(call, 'ReadChunks')),
    LocalReclaim: unary('LocalReclaim', PEER, h.LocalReclaim, self('LocalReclaim')),
    LocalRelease: unary('LocalRelease', PEER, h.LocalRelease, self('LocalRelease')),
  };
}
