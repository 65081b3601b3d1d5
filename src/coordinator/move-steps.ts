// Pure: the steps of a move between sites. `nextPhase` is the move's state machine; `planMove`
// decides, from the job and what the destination reserved, how the move begins.
import type { Snapshot } from '../shared/proto.js';
import type { ClusterLease } from './address-allocator.js';
import { clonePlain } from './tracked.js';
import type { JobRecord, MoveState } from './store.js';

export type MovePhase = MoveState['phase'];
export type StepOutcome = 'ok' | 'failed';
/** where a move goes after a step: another phase, or one of its ends */
export type MoveNext = MovePhase | 'done' | 'abandoned' | 'rolled-back';

/**
 * precopy → snapshot → transfer → restore → done. A failed pre-copy only costs time (the final
 * snapshot sends everything); a failed final snapshot abandons the move (the VMs run on at the
 * origin, untouched); a failed transfer or restore rolls back to the origin.
 */
export function nextPhase(phase: MovePhase, outcome: StepOutcome): MoveNext {
  switch (phase) {
    case 'precopy':
      return 'snapshot';
    case 'snapshot':
      return outcome === 'ok' ? 'transfer' : 'abandoned';
    case 'transfer':
      return outcome === 'ok' ? 'restore' : 'rollback';
    case 'restore':
      return outcome === 'ok' ? 'done' : 'rollback';
    case 'rollback':
      return 'rolled-back';
  }
}

export interface MovePlanInput {
  job: JobRecord;
  to: string;
  /** the destination's nodes, one per VM */
  nodes: readonly string[];
  /** the leases reserved at the destination */
  lease: ClusterLease;
  /** the job's latest intact snapshot, if any */
  latest: Snapshot | undefined;
  /** a failover: the origin is unreachable; the job moves from an earlier snapshot */
  fromSnapshot: boolean;
  /** pre-copy asked for */
  precopy: boolean;
  /** the id the pre-copy checkpoint gets, if there is one */
  precopySnapshotId: string;
}

export function planMove(i: MovePlanInput): MoveState {
  const { job } = i;
  const wasRunning = job.state === 'RUNNING';
  const finalSnapshot = wasRunning && !i.fromSnapshot;
  // Pre-copy unless the destination already holds the job's latest snapshot (a replica): most
  // of the final snapshot's chunks are then there before the cluster stops.
  const precopy = finalSnapshot && i.precopy && !i.latest?.sites.includes(i.to);
  return {
    from: { site: job.site, subnet: job.subnet, gateway: job.gateway, vms: clonePlain(job.vms) },
    to: {
      site: i.to,
      subnet: i.lease.subnet,
      gateway: i.lease.gateway,
      vms: i.lease.vms.map((v, n) => ({ name: v.vm, node: i.nodes[n] as string, mac: v.mac, ip: v.ip, state: 'PENDING', domain: '', console: '' })),
    },
    wasRunning,
    phase: precopy ? 'precopy' : finalSnapshot ? 'snapshot' : 'transfer',
    ...(precopy ? { precopySnapshotId: i.precopySnapshotId } : {}),
  };
}

/** What the move does first, for the job's history. */
export function firstStep(move: MoveState, snapshotId: string): string {
  if (move.phase === 'precopy') {
    return `pre-copy checkpoint ${move.precopySnapshotId} sent while it runs, then final snapshot ${snapshotId} on ${move.from.site}`;
  }
  return move.phase === 'snapshot' ? `final snapshot ${snapshotId} on ${move.from.site}` : `sending snapshot ${snapshotId}`;
}
