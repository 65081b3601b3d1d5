// Pure: how much of each site the jobs hold, and what a restore of a job needs.
import { HOLDING_STATES } from './job-state.js';
import { consume, type GuestNeed, type PlacementRequest, type SiteCapacity } from './scheduler.js';
import type { JobRecord, MoveState, PendingOp, Placement, SiteRecord } from './store.js';

export type MoveOp = PendingOp & { kind: 'move'; move: MoveState };

export function isMove(op: PendingOp | undefined): op is MoveOp {
  return op?.kind === 'move' && op.move !== undefined;
}

/** A resume or move of `job`: room for its VMs on nodes that run the guest types they were saved as. */
export function restoreRequest(job: JobRecord): PlacementRequest {
  return { vms: job.vmCount, cpus: job.cpus, memoryMiB: job.memoryMiB, image: job.image, ...(job.needs ? { needs: job.needs } : {}) };
}

/** The guest types new VMs get on these nodes of `site` (none known: an agent that does not say). */
export function guestNeeds(site: SiteRecord | undefined, nodes: readonly string[]): GuestNeed[] | undefined {
  const out = new Map<string, GuestNeed>();
  for (const name of nodes) {
    const n = site?.nodes.find((x) => x.name === name);
    if (!n?.arch || !n.domainType) return undefined;
    out.set(`${n.domainType}/${n.arch}`, { arch: n.arch, domainType: n.domainType });
  }
  return [...out.values()];
}

/** Each site's nodes with what the live jobs hold of them. */
export function capacities(sites: Iterable<SiteRecord>, jobs: Iterable<JobRecord>, isUp: (site: string) => boolean): Map<string, SiteCapacity> {
  const caps = new Map<string, SiteCapacity>();
  for (const site of sites) {
    caps.set(site.name, {
      name: site.name,
      up: isUp(site.name),
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
  for (const job of jobs) {
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
