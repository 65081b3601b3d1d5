// A cluster's libvirt network on one connection, for a deploy and for a restore alike: built from
// the spec (so names, DHCP hosts and egress follow the cluster wherever it runs), defined and
// started when missing, and when a network of that name exists, taken only if its metadata says
// it is this cluster's of this site.
import { AlreadyExistsError } from '../src/shared/errors.js';
import type { Logger } from '../src/shared/logger.js';
import type { ClusterSpec } from '../src/shared/proto.js';
import { networkName } from './domain-xml.js';
import type { LibvirtConnection } from './libvirt/types.js';
import { buildNetworkXml, parseNetworkMetadata } from './network-xml.js';
import type { Created } from './undo-created.js';

export type NetworkOf = Pick<ClusterSpec, 'jobId' | 'subnet' | 'gateway' | 'vms' | 'egress'>;

export function clusterNetworkXml(site: string, spec: NetworkOf): string {
  return buildNetworkXml({
    site,
    jobId: spec.jobId,
    subnet: spec.subnet,
    gateway: spec.gateway,
    hosts: spec.vms.map((vm) => ({ name: vm.name, mac: vm.mac, ip: vm.ip })),
    egress: spec.egress,
  });
}

/** Makes the network exist and run on `conn`; a network it defines is recorded in `created`. */
export async function ensureClusterNetwork(
  conn: LibvirtConnection,
  o: { site: string; jobId: string; xml: string; uri: string; created: Created; log: Logger; what: string },
): Promise<void> {
  const name = networkName(o.site, o.jobId);
  const net = await conn.lookupNetwork(name);
  if (!net) {
    await conn.defineNetwork(o.xml);
    o.created.networks.push(conn);
    await conn.startNetwork(name);
    o.log.info({ network: name, uri: o.uri }, `${o.what}: network created`);
    return;
  }
  const meta = parseNetworkMetadata(await conn.networkXml(name));
  if (!meta || meta.site !== o.site || meta.job !== o.jobId) {
    throw new AlreadyExistsError(`libvirt network ${name} on ${o.uri} exists and is not this cluster's`);
  }
  if (!net.active) await conn.startNetwork(name);
}
