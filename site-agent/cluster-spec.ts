// A cluster spec checked against the site before anything is created (shared with the gRPC
// service, which reports the same field names).
import { InvalidArgumentError } from '../src/shared/errors.js';
import type { ClusterSpec } from '../src/shared/proto.js';
import type { ImageConfig } from './config.js';
import type { Accel } from './domain-xml.js';
import { validateSeedSpec } from './seed.js';

/** Job ids and VM names: they end up in libvirt names, so [a-z0-9-] only. */
export const JOB_ID = /^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/;
const MAC = /^[0-9a-f]{2}(?::[0-9a-f]{2}){5}$/i;

function ipv4ToInt(ip: string): number | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  if (!m) return null;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return null;
  return parts.reduce((acc, p) => acc * 256 + p, 0);
}

export interface NodeCapacity {
  name: string;
  uri: string;
  cpus: number;
  memoryMiB: number;
  /** how the node's VMs are accelerated (default `auto`) */
  accel?: Accel;
}

/** Throws InvalidArgumentError naming the field (`cluster.vms[1].mac`) of the first problem. */
/** What of a site's config decides whether a cluster spec can run here. */
export interface SiteFacts {
  nodes: readonly NodeCapacity[];
  images: Readonly<Record<string, ImageConfig>>;
  /** network.egress is nat: clusters may ask for a NATed network (absent: no) */
  egress?: boolean;
  /** the largest output disk per VM, in MiB (absent or 0: none) */
  maxOutputDiskMiB?: number;
}

export function validateClusterSpec(
  spec: ClusterSpec,
  site: SiteFacts,
  prefix = 'cluster',
): void {
  const f = (field: string): string => `${prefix}.${field}`;
  if (!JOB_ID.test(spec.jobId)) {
    throw new InvalidArgumentError(f('jobId'), `"${spec.jobId}" is not a valid job id: use 1–64 characters from [a-z0-9-]`);
  }
  if (!Object.hasOwn(site.images, spec.image)) {
    const known = Object.keys(site.images).join(', ') || 'none';
    throw new InvalidArgumentError(f('image'), `unknown image "${spec.image}" (this site has: ${known})`);
  }
  if (!Number.isInteger(spec.cpus) || spec.cpus <= 0) throw new InvalidArgumentError(f('cpus'), `must be a positive whole number, got ${spec.cpus}`);
  validateSeedSpec(spec, prefix);
  // The coordinator places egress jobs only where it is allowed; this holds if it did not.
  if (spec.egress && site.egress !== true) throw new InvalidArgumentError(f('egress'), 'this site does not allow egress (its network.egress is none)');
  const maxOut = site.maxOutputDiskMiB ?? 0;
  if (!Number.isInteger(spec.outputDiskMiB) || spec.outputDiskMiB < 0) {
    throw new InvalidArgumentError(f('outputDiskMiB'), `must be a whole number of MiB ≥ 0, got ${spec.outputDiskMiB}`);
  }
  if (spec.outputDiskMiB > maxOut) {
    throw new InvalidArgumentError(f('outputDiskMiB'), `${spec.outputDiskMiB} MiB is more than this site allows (outputDisk.max: ${maxOut} MiB)`);
  }
  if (!Number.isInteger(spec.memoryMiB) || spec.memoryMiB <= 0) {
    throw new InvalidArgumentError(f('memoryMiB'), `must be a positive whole number of MiB, got ${spec.memoryMiB}`);
  }
  const cidr = /^(.+)\/(\d{1,2})$/.exec(spec.subnet);
  const net = cidr ? ipv4ToInt(cidr[1] as string) : null;
  const prefixLen = cidr ? Number(cidr[2]) : NaN;
  if (net === null || !(prefixLen >= 1 && prefixLen <= 30)) {
    throw new InvalidArgumentError(f('subnet'), `expected an IPv4 CIDR such as 10.144.0.0/29, got "${spec.subnet}"`);
  }
  const size = 2 ** (32 - prefixLen);
  if (net % size !== 0) throw new InvalidArgumentError(f('subnet'), `"${spec.subnet}" has host bits set`);
  const broadcast = net + size - 1;
  const inHostRange = (n: number): boolean => n > net && n < broadcast;
  const gw = ipv4ToInt(spec.gateway);
  if (gw === null || !inHostRange(gw)) {
    throw new InvalidArgumentError(f('gateway'), `"${spec.gateway}" is not a host address of ${spec.subnet}`);
  }
  if (spec.vms.length === 0) throw new InvalidArgumentError(f('vms'), 'a cluster needs at least one VM');
  const names = new Set<string>();
  const macs = new Set<string>();
  const ips = new Set<number>([gw]);
  spec.vms.forEach((vm, i) => {
    const v = (field: string): string => f(`vms[${i}].${field}`);
    // Up to 64 characters, not checkName's 32: the coordinator names VMs `<job name>-<i>`.
    if (!JOB_ID.test(vm.name)) {
      throw new InvalidArgumentError(v('name'), `"${vm.name}" is not a valid VM name: use 1–64 characters from [a-z0-9-]`);
    }
    if (names.has(vm.name)) throw new InvalidArgumentError(v('name'), `duplicate VM name "${vm.name}"`);
    names.add(vm.name);
    const node = site.nodes.find((n) => n.name === vm.node);
    if (!node) {
      throw new InvalidArgumentError(v('node'), `unknown node "${vm.node}" (this site has: ${site.nodes.map((n) => n.name).join(', ')})`);
    }
    if (spec.cpus > node.cpus || spec.memoryMiB > node.memoryMiB) {
      throw new InvalidArgumentError(
        v('node'),
        `a VM of ${spec.cpus} cpus / ${spec.memoryMiB} MiB does not fit node ${node.name} (${node.cpus} cpus / ${node.memoryMiB} MiB)`,
      );
    }
    if (!MAC.test(vm.mac)) throw new InvalidArgumentError(v('mac'), `expected a MAC such as 02:b1:0a:00:00:01, got "${vm.mac}"`);
    if (parseInt(vm.mac.slice(0, 2), 16) & 1) throw new InvalidArgumentError(v('mac'), `"${vm.mac}" is a multicast MAC`);
    const mac = vm.mac.toLowerCase();
    if (macs.has(mac)) throw new InvalidArgumentError(v('mac'), `MAC ${vm.mac} is given to two VMs`);
    macs.add(mac);
    const ip = ipv4ToInt(vm.ip);
    if (ip === null || !inHostRange(ip)) throw new InvalidArgumentError(v('ip'), `"${vm.ip}" is not a host address of ${spec.subnet}`);
    if (ips.has(ip)) throw new InvalidArgumentError(v('ip'), `${vm.ip} is already the gateway's or another VM's`);
    ips.add(ip);
  });
}
