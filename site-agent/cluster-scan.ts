// What libvirt holds of this site's clusters: every brine domain and network on the site's
// connections, attributed to jobs by their metadata (read once per domain, cached), never by the
// connection that lists them (nodes may share one libvirt URI).
import type { VmMetadata } from './domain-xml.js';
import { BRINE_PREFIX, domainName, networkName, parseVmMetadata, sitePrefix } from './domain-xml.js';
import { isNoDomain, isNoNetwork } from './libvirt/errors.js';
import type { ClusterStatus, VmStatus } from '../src/shared/proto.js';
import type { DomainState, LibvirtConnection } from './libvirt/types.js';
import { parseNetworkMetadata } from './network-xml.js';

export type VmState = 'RUNNING' | 'PAUSED' | 'SHUTOFF' | 'CRASHED' | 'MISSING';

export function vmState(state: DomainState): VmState {
  switch (state) {
    case 'running':
    case 'blocked':
    // `shutdown` is "shutting down": the guest still runs until libvirt reports `shutoff`.
    case 'shutdown':
    // `nostate` is transient (e.g. while QEMU starts); it is not a stop.
    case 'nostate':
      return 'RUNNING';
    case 'paused':
    case 'pmsuspended':
      return 'PAUSED';
    case 'shutoff':
      return 'SHUTOFF';
    case 'crashed':
      return 'CRASHED';
  }
}

export interface Conn {
  uri: string;
  lv: LibvirtConnection;
}

export interface SeenVm {
  meta: VmMetadata;
  domain: string;
  state: VmState;
  conn: Conn;
}

export interface SeenCluster {
  vms: Map<string, SeenVm>;
  /** connections holding this cluster's network */
  networks: Conn[];
}

export class ClusterScanner {
  /** domain metadata by `uri uuid` (null: not brine's), dropped when the domain is gone */
  private readonly metaCache = new Map<string, VmMetadata | null>();
  /** network metadata by `uri net name bridge` */
  private readonly netMetaCache = new Map<string, ReturnType<typeof parseNetworkMetadata>>();

  constructor(
    private readonly site: string,
    private readonly conns: readonly Conn[],
  ) {}

  /** Everything of this site that libvirt holds, grouped by job. */
  async scan(): Promise<Map<string, SeenCluster>> {
    // Domain names carry no site (a VM keeps its name across sites): every brine domain is looked
    // at and its metadata (read once per domain, cached) says whose it is. Networks keep the site.
    const netPrefix = sitePrefix(this.site);
    const out = new Map<string, SeenCluster>();
    const cluster = (job: string): SeenCluster => {
      let c = out.get(job);
      if (!c) out.set(job, (c = { vms: new Map(), networks: [] }));
      return c;
    };
    const liveKeys = new Set<string>();
    for (const conn of this.conns) {
      for (const d of await conn.lv.listDomains()) {
        if (!d.name.startsWith(BRINE_PREFIX)) continue;
        const key = `${conn.uri} ${d.uuid}`;
        liveKeys.add(key);
        let meta = this.metaCache.get(key);
        if (meta === undefined) {
          try {
            meta = parseVmMetadata(await conn.lv.domainXml(d.name));
          } catch (err) {
            // Gone between the listing and this read (a destroy racing): it is simply not there.
            // Anything else fails the scan: a partial view must never be reported as the site's.
            if (!isNoDomain(err)) throw err;
            continue;
          }
          this.metaCache.set(key, meta);
        }
        if (!meta || meta.site !== this.site) continue;
        const c = cluster(meta.job);
        const prev = c.vms.get(meta.vm);
        // The same VM on two connections (only after an operator's manual move): keep the running one.
        if (prev && prev.state === 'RUNNING') continue;
        c.vms.set(meta.vm, { meta, domain: d.name, state: vmState(d.state), conn });
      }
      for (const n of await conn.lv.listNetworks()) {
        if (!n.name.startsWith(netPrefix)) continue;
        const key = `${conn.uri} net ${n.name} ${n.bridge}`;
        liveKeys.add(key);
        let meta = this.netMetaCache.get(key);
        if (meta === undefined) {
          try {
            meta = parseNetworkMetadata(await conn.lv.networkXml(n.name));
          } catch (err) {
            if (!isNoNetwork(err)) throw err;
            continue;
          }
          this.netMetaCache.set(key, meta);
        }
        if (!meta || meta.site !== this.site || n.name !== networkName(this.site, meta.job)) continue;
        cluster(meta.job).networks.push(conn);
      }
    }
    for (const key of this.metaCache.keys()) if (!liveKeys.has(key)) this.metaCache.delete(key);
    for (const key of this.netMetaCache.keys()) if (!liveKeys.has(key)) this.netMetaCache.delete(key);
    return out;
  }

  /**
   * Drops cached domain metadata of the job (any site's) and of domains that had none. A restored
   * VM keeps the name and UUID it was saved with, so a UUID seen before (the job's VM when it ran
   * here, or at another site sharing this libvirtd) can come back with other metadata.
   */
  forgetJob(jobId: string): void {
    for (const [key, meta] of this.metaCache) if (!meta || meta.job === jobId) this.metaCache.delete(key);
  }
}

/**
 * A job's cluster as the API shows it: the VMs libvirt holds (`seen`), plus those this agent
 * deployed or saw before (`tracked`: vm name → node) that libvirt no longer has (`MISSING`).
 */
export function clusterStatus(
  site: string,
  jobId: string,
  seen: SeenCluster | undefined,
  tracked: ReadonlyMap<string, string> | undefined,
  consolePath: (domain: string) => string,
): ClusterStatus {
  const vms = new Map<string, VmStatus>();
  for (const [name, vm] of seen?.vms ?? []) {
    vms.set(name, { name, node: vm.meta.node, domain: vm.domain, state: vm.state, console: consolePath(vm.domain) });
  }
  for (const [name, node] of tracked ?? []) {
    if (vms.has(name)) continue;
    const domain = domainName(jobId, name);
    vms.set(name, { name, node, domain, state: 'MISSING', console: consolePath(domain) });
  }
  return {
    jobId,
    network: seen && seen.networks.length > 0 ? networkName(site, jobId) : '',
    vms: [...vms.values()].sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true })),
    networkXml: '',
  };
}

/** Whether two views of a cluster show the same VMs in the same states. */
export function sameStatus(a: ClusterStatus, b: ClusterStatus): boolean {
  if (a.network !== b.network || a.vms.length !== b.vms.length) return false;
  return a.vms.every((v, i) => {
    const w = b.vms[i];
    return !!w && v.name === w.name && v.node === w.node && v.state === w.state && v.domain === w.domain;
  });
}
