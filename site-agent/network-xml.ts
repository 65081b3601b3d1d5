// Pure builder of the libvirt network of one virtual cluster: a bridge with the cluster's gateway
// address, DHCP handing each VM (by MAC) exactly the IP the coordinator leased to it, and DNS
// answering each VM's name (`demo-0`, `demo-0.<job>.brine`) with that IP. The network is built from
// the spec wherever the cluster runs now (deploy, restore after a move), so the names follow the VMs.
import { createHash } from 'node:crypto';
import { metadataElement, networkName, parseMetadataElement, xmlEscape } from './domain-xml.js';

/** Linux caps interface names at 15 characters (IFNAMSIZ - 1). */
export const MAX_BRIDGE_NAME = 15;

/**
 * `brn` + 12 hex digits of a hash of site and job: 15 characters, stable for a cluster (so a retried
 * deploy finds the same name), and distinct between clusters and sites sharing one host.
 */
export function bridgeName(site: string, jobId: string): string {
  const digest = createHash('sha256').update(`${site}\0${jobId}`).digest('hex');
  return `brn${digest.slice(0, MAX_BRIDGE_NAME - 3)}`;
}

export interface DhcpHost {
  /** the VM's name, given to the guest as its hostname */
  name: string;
  mac: string;
  ip: string;
}

export interface NetworkSpec {
  site: string;
  jobId: string;
  /** CIDR of the cluster's leased subnet, e.g. 10.144.0.8/29 */
  subnet: string;
  gateway: string;
  hosts: DhcpHost[];
  /** NAT to whatever the host routes to (`submit --egress`, where network.egress is nat) */
  egress?: boolean;
}

export function subnetPrefix(subnet: string): number {
  const m = /\/(\d{1,3})$/.exec(subnet);
  if (!m) throw new Error(`subnet "${subnet}" has no /prefix`);
  return Number(m[1]);
}

/** The DNS domain of a cluster's VMs: `<vm>.<job>.brine`. */
export function clusterDomain(jobId: string): string {
  return `${jobId}.brine`;
}

export function buildNetworkXml(s: NetworkSpec): string {
  const e = xmlEscape;
  const domain = clusterDomain(s.jobId);
  const dnsHosts = s.hosts.flatMap((h) => [
    `    <host ip='${e(h.ip)}'>`,
    `      <hostname>${e(h.name)}</hostname>`,
    `      <hostname>${e(`${h.name}.${domain}`)}</hostname>`,
    `    </host>`,
  ]);
  const family = s.gateway.includes(':') ? ` family='ipv6'` : '';
  const hosts = s.hosts.map(
    (h) => `      <host mac='${e(h.mac.toLowerCase())}' name='${e(h.name)}' ip='${e(h.ip)}'/>`,
  );
  return [
    `<network>`,
    `  <name>${e(networkName(s.site, s.jobId))}</name>`,
    `  <metadata>`,
    `    ${metadataElement('cluster', { site: s.site, job: s.jobId, subnet: s.subnet, gateway: s.gateway })}`,
    `  </metadata>`,
    // Without egress, no <forward>: an isolated network. The VMs reach each other and the gateway
    // (DHCP, DNS) but nothing beyond the node: best-effort guests get no route into the grid's own
    // networks, and libvirt installs no NAT rules that could clash with the host's firewall. With
    // egress (the site allows it and the job asked), libvirt masquerades the subnet behind the
    // host and its DHCP then hands out the gateway as the default route.
    ...(s.egress ? [`  <forward mode='nat'/>`] : []),
    `  <bridge name='${e(bridgeName(s.site, s.jobId))}' stp='on' delay='0'/>`,
    // dnsmasq (libvirt's) serves the names. localOnly: names under the job's domain are answered
    // here or not at all; forwardPlainNames='no': a bare name a VM does not know never leaves the
    // node. The DHCP answer carries the domain, so a guest's resolver searches it.
    `  <domain name='${e(domain)}' localOnly='yes'/>`,
    `  <dns forwardPlainNames='no'>`,
    ...dnsHosts,
    `  </dns>`,
    `  <ip address='${e(s.gateway)}' prefix='${subnetPrefix(s.subnet)}'${family}>`,
    // Static hosts only, no dynamic <range>: an address of the subnet is only ever handed to the
    // MAC it was leased to, so a stray or late guest can never take a VM's address (libvirt then
    // runs dnsmasq with a `static` dhcp-range).
    `    <dhcp>`,
    ...hosts,
    `    </dhcp>`,
    `  </ip>`,
    `</network>`,
    '',
  ].join('\n');
}

export interface NetworkMetadata {
  site: string;
  job: string;
  subnet: string;
  gateway: string;
}

export function parseNetworkMetadata(networkXml: string): NetworkMetadata | null {
  const a = parseMetadataElement(networkXml, 'cluster');
  if (!a || !a.site || !a.job) return null;
  return { site: a.site, job: a.job, subnet: a.subnet ?? '', gateway: a.gateway ?? '' };
}

/** The `<host>` entries of a network's DHCP, as libvirt reports them. */
export function parseDhcpHosts(networkXml: string): DhcpHost[] {
  const hosts: DhcpHost[] = [];
  for (const m of networkXml.matchAll(/<host\b([^>]*?)\/?>/g)) {
    const attrs: Record<string, string> = {};
    for (const a of (m[1] ?? '').matchAll(/([\w-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) {
      attrs[a[1] as string] = a[2] ?? a[3] ?? '';
    }
    if (attrs.mac && attrs.ip) hosts.push({ name: attrs.name ?? '', mac: attrs.mac, ip: attrs.ip });
  }
  return hosts;
}
