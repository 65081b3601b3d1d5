// A cluster's libvirt network on one connection, for a deploy and for a restore alike: built from
// the spec (so names, DHCP hosts and egress follow the cluster wherever it runs), defined and
// started when missing, and when a network of that name exists, taken only if its metadata says
// it is this cluster's of this site.
import { retryDelayMs, type BackoffPolicy } from '../src/shared/backoff.js';
import { sleep as sleepOn, systemTimers } from '../src/shared/clock.js';
import { AlreadyExistsError, errorMessage } from '../src/shared/errors.js';
import type { Logger } from '../src/shared/logger.js';
import type { ClusterSpec } from '../src/shared/proto.js';
import { networkName } from './domain-xml.js';
import { isAddressInUse } from './libvirt/errors.js';
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

/**
 * How long a network start keeps trying while its gateway address is still held. libvirt stops a
 * destroyed network's dnsmasq with SIGTERM and does not wait for it to exit, so the next network on
 * that subnet (a freed subnet is handed out again at once) can find its DNS socket still bound for
 * a second or more; the host settles by itself, a failed deploy would not.
 */
export const NETWORK_START_BACKOFF: BackoffPolicy = { initialMs: 250, maxMs: 4_000, factor: 2 };
/** retries of such a start: 250 ms, 0.5, 1, 2, 4, 4 s (about 12 s in all) */
export const NETWORK_START_RETRIES = 6;

type EnsureOpts = {
  site: string;
  jobId: string;
  xml: string;
  uri: string;
  created: Created;
  log: Logger;
  what: string;
  /** waits between the tries of a start whose address is still held (tests pass their own) */
  sleep?: (ms: number) => Promise<void>;
};

async function startNetwork(conn: LibvirtConnection, name: string, o: EnsureOpts): Promise<void> {
  const wait = o.sleep ?? ((ms: number) => sleepOn(systemTimers, ms));
  for (let retry = 1; ; retry++) {
    try {
      await conn.startNetwork(name);
      return;
    } catch (err) {
      if (!isAddressInUse(err) || retry > NETWORK_START_RETRIES) throw err;
      const delay = retryDelayMs(retry, NETWORK_START_BACKOFF);
      o.log.warn({ network: name, uri: o.uri, attempt: retry, retryInMs: delay, err: errorMessage(err) },
        `${o.what}: the network's address is still held on the host (a just-destroyed network's dnsmasq?); trying again`);
      await wait(delay);
    }
  }
}

/** Makes the network exist and run on `conn`; a network it defines is recorded in `created`. */
export async function ensureClusterNetwork(conn: LibvirtConnection, o: EnsureOpts): Promise<void> {
  const name = networkName(o.site, o.jobId);
  const net = await conn.lookupNetwork(name);
  if (!net) {
    await conn.defineNetwork(o.xml);
    o.created.networks.push(conn);
    await startNetwork(conn, name, o);
    o.log.info({ network: name, uri: o.uri }, `${o.what}: network created`);
    return;
  }
  const meta = parseNetworkMetadata(await conn.networkXml(name));
  if (!meta || meta.site !== o.site || meta.job !== o.jobId) {
    throw new AlreadyExistsError(`libvirt network ${name} on ${o.uri} exists and is not this cluster's`);
  }
  if (!net.active) await startNetwork(conn, name, o);
}
