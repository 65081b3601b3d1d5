// Pure: each site's capacity as placement sees it, and what a restore of a job needs.
import type { GuestNeed, PlacementRequest, SiteCapacity } from './scheduler.js';
import type { JobRecord, MoveState, PendingOp, SiteRecord } from './store.js';

export type MoveOp = PendingOp & { kind: 'move'; move: MoveState };

export function isMove(op: PendingOp | undefined): op is MoveOp {
  return op?.kind === 'move' && op.move !== undefined;
}

/** What every placement of `job` asks of a site: room for its VMs, its image, egress and an output disk if it asked. */
export function jobRequest(job: JobRecord): PlacementRequest {
  return {
    vms: job.vmCount,
    cpus: job.cpus,
    memoryMiB: job.memoryMiB,
    image: job.image,
    ...(job.egress ? { egress: true } : {}),
    ...(job.outputDiskMiB ? { outputDiskMiB: job.outputDiskMiB } : {}),
  };
}

/** A resume or move of `job`: room for its VMs on nodes that run the guest types they were saved as. */
export function restoreRequest(job: JobRecord): PlacementRequest {
  return { ...jobRequest(job), ...(job.needs ? { needs: job.needs } : {}) };
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

/** Each site's nodes with what the live jobs hold of them (`use`, from the job index). */
export function capacities(
  sites: Iterable<SiteRecord>,
  use: (site: string, node: string) => { usedCpus: number; usedMemoryMiB: number } | undefined,
  isUp: (site: string) => boolean,
): Map<string, SiteCapacity> {
  const caps = new Map<string, SiteCapacity>();
  for (const site of sites) {
    caps.set(site.name, {
      name: site.name,
      up: isUp(site.name),
      images: site.images,
      egress: site.egress === true,
      maxOutputDiskMiB: site.maxOutputDiskMiB ?? 0,
      nodes: site.nodes.map((n) => {
        const u = use(site.name, n.name);
        return {
          name: n.name,
          cpus: n.cpus,
          memoryMiB: n.memoryMiB,
          usedCpus: u?.usedCpus ?? 0,
          usedMemoryMiB: u?.usedMemoryMiB ?? 0,
          schedulable: !site.reclaimedNodes.includes(n.name),
          arch: n.arch,
          domainTypes: n.domainTypes,
        };
      }),
    });
  }
  return caps;
}
