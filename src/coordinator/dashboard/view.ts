// What the dashboard page shows (`GET /api/state`), built from the coordinator's public reads:
// sites with nodes and free capacity, jobs with their VMs, moves, history and snapshots. Pure.
import type { Site, Snapshot } from '../../shared/proto.js';
import { isEnded } from '../job-state.js';
import type { JobRecord } from '../store.js';
import type { TransferView } from './transfers.js';

/** ended jobs shown besides the live ones (most recent first) */
export const ENDED_SHOWN = 20;
/** a job's latest snapshots shown in its charts */
export const SNAPSHOTS_SHOWN = 20;
/** a job's latest history entries sent (history is not compacted yet: a long-lived job has many) */
export const HISTORY_SHOWN = 100;

export interface DashboardSource {
  jobs(): JobRecord[];
  sites(): Site[];
  snapshots(jobId: string): Snapshot[];
}

export interface DashboardState {
  at: string;
  sites: Array<{
    name: string;
    state: string;
    heartbeatAgeMs: number | null;
    nodes: Array<{ name: string; state: string; cpus: number; freeCpus: number; memoryMiB: number; freeMemoryMiB: number }>;
  }>;
  jobs: Array<{
    id: string;
    name: string;
    owner: string;
    state: string;
    site: string;
    subnet: string;
    createdAt: string;
    vms: Array<{ name: string; node: string; ip: string; state: string }>;
    history: Array<{ at: string; state: string; reason: string }>;
    snapshots: Array<{ id: string; kind: string; createdAt: string; totalBytes: number; newBytes: number; downtimeMs: number; pauseSkewMs: number; sites: string[] }>;
    move: { from: string; to: string; phase: string } | null;
  }>;
  transfers: TransferView[];
}

export function dashboardState(src: DashboardSource, transfers: TransferView[], nowMs: number): DashboardState {
  const all = src.jobs();
  const live = all.filter((j) => !isEnded(j.state));
  const ended = all
    .filter((j) => isEnded(j.state))
    .sort((a, b) => (b.history.at(-1)?.at ?? '').localeCompare(a.history.at(-1)?.at ?? ''))
    .slice(0, ENDED_SHOWN);
  return {
    at: new Date(nowMs).toISOString(),
    sites: src.sites().map((s) => ({
      name: s.name,
      state: s.state,
      heartbeatAgeMs: s.lastHeartbeat ? Math.max(0, nowMs - Date.parse(s.lastHeartbeat)) : null,
      nodes: s.nodes.map((n) => ({ name: n.name, state: n.state, cpus: n.cpus, freeCpus: n.freeCpus, memoryMiB: n.memoryMiB, freeMemoryMiB: n.freeMemoryMiB })),
    })),
    jobs: [...live, ...ended].map((j) => {
      const move = j.pendingOp?.kind === 'move' ? j.pendingOp.move : undefined;
      // same tick as jobs(): the job cannot have been collected in between
      const snaps: Snapshot[] = src.snapshots(j.id).slice(-SNAPSHOTS_SHOWN);
      return {
        id: j.id,
        name: j.name,
        owner: j.owner,
        state: j.state,
        site: j.site,
        subnet: j.subnet,
        createdAt: j.createdAt,
        vms: j.vms.map((v) => ({ name: v.name, node: v.node, ip: v.ip, state: v.state })),
        history: j.history.slice(-HISTORY_SHOWN).map((h) => ({ at: h.at, state: h.state, reason: h.reason })),
        snapshots: snaps.map((s) => ({ id: s.id, kind: s.kind, createdAt: s.createdAt, totalBytes: s.totalBytes, newBytes: s.newBytes, downtimeMs: s.downtimeMs, pauseSkewMs: s.pauseSkewMs, sites: [...s.sites] })),
        move: move ? { from: move.from.site, to: move.to.site, phase: move.phase } : null,
      };
    }),
    transfers,
  };
}
