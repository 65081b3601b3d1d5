// Placement, pure: which site takes a job (all K VMs on one site) and which node takes each VM.
// VMs are spread over the site's nodes (most free cpus first) so a node reclaimed later hits as
// few VMs of a cluster as possible; among sites, the one left with the most free cpus wins, which
// spreads load over the grid.

export interface NodeCapacity {
  name: string;
  cpus: number;
  memoryMiB: number;
  usedCpus: number;
  usedMemoryMiB: number;
  /** false for nodes reclaimed by the site's batch scheduler */
  schedulable: boolean;
  /** guest architecture and the libvirt domain types the node runs (absent: an agent that does not say) */
  arch?: string;
  domainTypes?: readonly string[];
}

/** What saved VMs need of the node that restores them: their own architecture and domain type. */
export interface GuestNeed {
  arch: string;
  domainType: string;
}

/** Whether `node` can run VMs saved as `needs` (a node or a need that says nothing is not checked). */
export function runsGuests(node: Pick<NodeCapacity, 'arch' | 'domainTypes'>, needs: readonly GuestNeed[]): boolean {
  if (!node.arch || !node.domainTypes?.length) return true;
  return needs.every((g) => !g.arch || (g.arch === node.arch && node.domainTypes?.includes(g.domainType)));
}

const needText = (needs: readonly GuestNeed[]): string => needs.map((g) => `${g.domainType}/${g.arch}`).join(', ');

export interface SiteCapacity {
  name: string;
  up: boolean;
  images: readonly string[];
  /** the site NATs a cluster's network outside for jobs that ask (network.egress: nat) */
  egress?: boolean;
  /** the largest output disk per VM it allows, MiB (outputDisk.max); absent: 0 */
  maxOutputDiskMiB?: number;
  nodes: NodeCapacity[];
}

export interface PlacementRequest {
  vms: number;
  cpus: number;
  memoryMiB: number;
  image: string;
  /** the job's network must reach outside (`submit --egress`): only sites that allow it */
  egress?: boolean;
  /** each VM needs an output disk of this many MiB (`submit --output-disk`) */
  outputDiskMiB?: number;
  /** only this site */
  site?: string;
  /** a restore (resume, move): the VMs were saved under these domain types and architectures */
  needs?: readonly GuestNeed[];
}

export type SiteFit = { ok: true; site: string; nodes: string[]; freeCpusAfter: number } | { ok: false; site: string; reason: string };

/** Node per VM on one site, or why it does not fit. Does not modify `site`. */
export function fitOnSite(site: SiteCapacity, req: PlacementRequest): SiteFit {
  if (!site.up) return { ok: false, site: site.name, reason: `${site.name} is DOWN` };
  if (!site.images.includes(req.image)) return { ok: false, site: site.name, reason: `${site.name} has no image ${req.image}` };
  if (req.egress && !site.egress) return { ok: false, site: site.name, reason: `${site.name} does not allow egress (network.egress is none)` };
  if (req.outputDiskMiB && req.outputDiskMiB > (site.maxOutputDiskMiB ?? 0)) {
    return { ok: false, site: site.name, reason: `${site.name} allows output disks up to ${site.maxOutputDiskMiB ?? 0} MiB (outputDisk.max)` };
  }
  const needs = req.needs ?? [];
  const schedulable = site.nodes.filter((n) => n.schedulable);
  const usable = schedulable.filter((n) => runsGuests(n, needs));
  if (schedulable.length > 0 && usable.length === 0) {
    const runs = [...new Set(schedulable.map((n) => `${(n.domainTypes ?? []).join('+')}/${n.arch ?? '?'}`))].join(', ');
    return {
      ok: false,
      site: site.name,
      reason: `${site.name} cannot restore these VMs: they were saved as ${needText(needs)} (a saved VM resumes only under its own accelerator and architecture), its nodes run ${runs}`,
    };
  }
  const free = usable.map((n) => ({ name: n.name, cpus: n.cpus - n.usedCpus, mem: n.memoryMiB - n.usedMemoryMiB }));
  const freeCpus = free.reduce((sum, n) => sum + n.cpus, 0);
  const freeMem = free.reduce((sum, n) => sum + n.mem, 0);
  const nodes: string[] = [];
  for (let i = 0; i < req.vms; i++) {
    let best: (typeof free)[number] | undefined;
    for (const n of free) {
      if (n.cpus < req.cpus || n.mem < req.memoryMiB) continue;
      if (!best || n.cpus > best.cpus || (n.cpus === best.cpus && (n.mem > best.mem || (n.mem === best.mem && n.name < best.name)))) {
        best = n;
      }
    }
    if (!best) {
      return {
        ok: false,
        site: site.name,
        reason: `${site.name} has room for ${i} of ${req.vms} VMs of ${req.cpus} cpus/${req.memoryMiB} MiB (free: ${freeCpus} cpus, ${freeMem} MiB)`,
      };
    }
    best.cpus -= req.cpus;
    best.mem -= req.memoryMiB;
    nodes.push(best.name);
  }
  return { ok: true, site: site.name, nodes, freeCpusAfter: free.reduce((s, n) => s + n.cpus, 0) };
}

export interface Ranking {
  /** sites that fit, best first */
  fits: Array<Extract<SiteFit, { ok: true }>>;
  /** why each other site does not */
  misses: Array<Extract<SiteFit, { ok: false }>>;
}

export function rankSites(sites: Iterable<SiteCapacity>, req: PlacementRequest): Ranking {
  const fits: Ranking['fits'] = [];
  const misses: Ranking['misses'] = [];
  for (const site of sites) {
    if (req.site !== undefined && site.name !== req.site) continue;
    const fit = fitOnSite(site, req);
    if (fit.ok) fits.push(fit);
    else misses.push(fit);
  }
  fits.sort((a, b) => b.freeCpusAfter - a.freeCpusAfter || a.site.localeCompare(b.site));
  return { fits, misses };
}

/** One line saying why nothing fits. */
export function pendingReason(req: PlacementRequest, misses: ReadonlyArray<{ reason: string }>): string {
  if (misses.length === 0) return req.site ? `site ${req.site} is not registered` : 'no site is registered';
  return `no site has room: ${misses.map((m) => m.reason).join('; ')}`;
}

/** Reserves the capacity of a placement in `site` (for the next job of the same pass). */
export function consume(site: SiteCapacity, nodes: readonly string[], req: Pick<PlacementRequest, 'cpus' | 'memoryMiB'>): void {
  for (const name of nodes) {
    const node = site.nodes.find((n) => n.name === name);
    if (!node) continue;
    node.usedCpus += req.cpus;
    node.usedMemoryMiB += req.memoryMiB;
  }
}
