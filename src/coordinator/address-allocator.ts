// Grid address management: per site, a subnet per cluster (buddy allocator over the site's pool)
// and a MAC per VM (interval set over the site's MAC range). Pure logic: no clock, no I/O.
//
// The persisted truth is the list of ClusterLeases (stored with the jobs); everything else here is
// derived and rebuilt by `restore`. Allocation choices depend only on the current free space, never
// on history, so a restored allocator makes exactly the choices the original would have made.
import {
  type MacRange,
  type SubnetPool,
  blockSize,
  contains,
  formatCidr,
  formatIp,
  formatMac,
  gatewayAddress,
  macNumber,
  macRangeSize,
  overlaps,
  parseCidr,
  parseIp,
  parseMacRange,
  parseSubnetPool,
  subnetBroadcast,
  subnetCapacity,
  subnetGateway,
  subnetSizeFor,
  vmAddress,
  vmAddresses,
} from '../shared/addresses.js';
import { InternalError, InvalidArgumentError, NotAllowedError, NotFoundError } from '../shared/errors.js';
import { checkName } from '../shared/names.js';
import { BuddyAllocator } from './buddy-allocator.js';
import { ChurnMap } from './churn-map.js';
import { IntervalSet } from './interval-set.js';

/** reserved → active → releasing → free; a reserved lease may also be released directly (failed move). */
export type LeaseState = 'reserved' | 'active' | 'releasing' | 'free';

export interface VmLease {
  readonly vm: string;
  readonly mac: string;
  readonly ip: string;
}

/**
 * What is persisted with a job: one per (site, job). Leases handed out are immutable (frozen): a
 * state change yields a new object, so a caller can keep one without copying and cannot corrupt
 * the allocator by editing it.
 */
export interface ClusterLease {
  readonly site: string;
  readonly job: string;
  /** Canonical CIDR of the cluster's subnet. */
  readonly subnet: string;
  readonly gateway: string;
  /** In the order the VMs were given to `reserve`; VM i has the i-th address after the gateway. */
  readonly vms: readonly VmLease[];
  readonly state: LeaseState;
}

/** DESIGN.md's `lease` object (`brine addresses --json`): one per VM. */
export interface FlatLease {
  site: string;
  job: string;
  vm: string;
  mac: string;
  ip: string;
  subnet: string;
  state: LeaseState;
}

/** A site's network settings, as in its config (`network.subnetPool`, `network.macRange`). */
export interface SiteNetwork {
  site: string;
  pool: string;
  macRange: string;
}

export type ReserveResult = { ok: true; lease: ClusterLease } | { ok: false; reason: string };

export interface SiteUsage {
  site: string;
  pool: string;
  macRange: string;
  totalAddresses: bigint;
  freeAddresses: bigint;
  totalMacs: bigint;
  freeMacs: bigint;
  /** Prefix length of the largest free aligned block, or null if the pool is full. */
  largestFreePrefix: number | null;
  /** The largest cluster a `reserve` would place right now (0 if none). */
  maxClusterVms: number;
  liveLeases: number;
}

interface LeaseRecord {
  lease: ClusterLease;
  network: bigint;
  prefix: number;
  macs: number[];
}

interface SiteState {
  name: string;
  pool: SubnetPool;
  macs: MacRange;
  subnets: BuddyAllocator;
  freeMacs: IntervalSet;
  /** Live leases by job. */
  leases: ChurnMap<string, LeaseRecord>;
}

// Each of these builds its object at its own place in the source on purpose: V8 decides per
// allocation site whether to allocate straight into the old generation, and the long-lived leases
// of a restore must not make the short-lived result of a release look long-lived too.

/** A frozen deep copy of a lease from outside (restore). */
function importedLease(l: ClusterLease): ClusterLease {
  const vms = Object.freeze(l.vms.map((v) => Object.freeze({ vm: v.vm, mac: v.mac, ip: v.ip })));
  return Object.freeze({ site: l.site, job: l.job, subnet: l.subnet, gateway: l.gateway, vms, state: l.state });
}

/** The same lease in another state, sharing the frozen VM list. */
function leaseInState(l: ClusterLease, state: LeaseState): ClusterLease {
  return Object.freeze({ site: l.site, job: l.job, subnet: l.subnet, gateway: l.gateway, vms: l.vms, state });
}

/** What release returns: usually dropped at once. */
function freedLease(l: ClusterLease): ClusterLease {
  return Object.freeze({ site: l.site, job: l.job, subnet: l.subnet, gateway: l.gateway, vms: l.vms, state: 'free' as const });
}

const byKey = (a: { site: string; job: string }, b: { site: string; job: string }): number =>
  a.site < b.site ? -1 : a.site > b.site ? 1 : a.job < b.job ? -1 : a.job > b.job ? 1 : 0;

export class AddressAllocator {
  private readonly siteStates = new Map<string, SiteState>();

  /**
   * Registers a site's pool and MAC range. Identical settings again: no-op. Different settings:
   * replaced if the site holds no live lease, refused otherwise.
   */
  addSite(site: string, pool: string, macRange: string): void {
    checkName(site, 'site');
    // The same parsers (and rules) the agent applies to its own config before it starts.
    const p = parseSubnetPool(pool, 'network.subnetPool');
    const m = parseMacRange(macRange, 'network.macRange');
    const existing = this.siteStates.get(site);
    if (existing) {
      const same =
        existing.pool.cidr === p.cidr && existing.macs.first === m.first && existing.macs.last === m.last;
      if (same) return;
      if (existing.leases.size > 0) {
        throw new NotAllowedError(
          `site ${site} holds ${existing.leases.size} live address lease(s): its network settings ` +
            `(${existing.pool.cidr}, ${existing.macs.text}) cannot change to (${p.cidr}, ${m.text}) until they are released`,
        );
      }
    }
    for (const other of this.siteStates.values()) {
      if (other.name === site) continue;
      if (overlaps(p, other.pool)) {
        throw new InvalidArgumentError(
          'network.subnetPool',
          `pool ${p.cidr} of site ${site} overlaps pool ${other.pool.cidr} of site ${other.name}`,
        );
      }
      if (overlaps(m, other.macs)) {
        throw new InvalidArgumentError(
          'network.macRange',
          `MAC range ${m.text} of site ${site} overlaps MAC range ${other.macs.text} of site ${other.name}`,
        );
      }
    }
    this.siteStates.set(site, {
      name: site,
      pool: p,
      macs: m,
      subnets: new BuddyAllocator(p),
      freeMacs: new IntervalSet(Number(m.first), Number(m.last)),
      leases: new ChurnMap(),
    });
  }

  /** Forgets a site; refused while it holds live leases, no-op if unknown. */
  removeSite(site: string): void {
    const s = this.siteStates.get(site);
    if (!s) return;
    if (s.leases.size > 0) {
      throw new NotAllowedError(`site ${site} holds ${s.leases.size} live address lease(s): release them first`);
    }
    this.siteStates.delete(site);
  }

  /** The registered sites, canonical forms (pool CIDR, MAC range first-last), sorted by name. */
  sites(): SiteNetwork[] {
    return [...this.siteStates.values()]
      .map((s) => ({ site: s.name, pool: s.pool.cidr, macRange: s.macs.text }))
      .sort((a, b) => (a.site < b.site ? -1 : a.site > b.site ? 1 : 0));
  }

  private siteState(site: string): SiteState {
    const s = this.siteStates.get(site);
    if (!s) throw new NotFoundError('site', site);
    return s;
  }

  /**
   * Leases a subnet, its gateway, and a MAC and an IP per VM, all or nothing. `{ok: false}` says why
   * when the site has no room (the job stays PENDING) or still releases the job's previous lease
   * there. A retry with the same VMs returns the existing lease; a different request for a
   * (site, job) that already holds one is refused.
   */
  reserve(site: string, job: string, vmNames: readonly string[]): ReserveResult {
    const s = this.siteState(site);
    if (job === '') throw new InvalidArgumentError('job', 'must not be empty');
    if (vmNames.length === 0) throw new InvalidArgumentError('vms', 'a cluster needs at least one VM');
    const seen = new Set<string>();
    for (const vm of vmNames) {
      if (vm === '') throw new InvalidArgumentError('vms', 'VM names must not be empty');
      if (seen.has(vm)) throw new InvalidArgumentError('vms', `VM name "${vm}" appears twice`);
      seen.add(vm);
    }
    const held = s.leases.get(job);
    if (held) {
      // A deploy whose destroy failed leaves its lease releasing until the site confirms: the job
      // cannot go there for now, but that is a reason to try elsewhere, not an error that would
      // abort the coordinator's whole placement pass.
      if (held.lease.state === 'releasing') {
        return {
          ok: false,
          reason: `site ${site} is still releasing job ${job}'s previous addresses there (${held.lease.subnet})`,
        };
      }
      const same = held.lease.vms.length === vmNames.length && held.lease.vms.every((v, i) => v.vm === vmNames[i]);
      if (same) return { ok: true, lease: held.lease };
      throw new NotAllowedError(
        `job ${job} already holds a ${held.lease.state} lease at site ${site} (${held.lease.subnet}); release it first`,
      );
    }

    const k = vmNames.length;
    const family = s.pool.family;
    const prefix = subnetSizeFor(k, family);
    if (prefix < s.pool.prefix) {
      return { ok: false, reason: `a cluster of ${k} VMs needs a /${prefix} subnet, larger than site ${site} pool ${s.pool.cidr}` };
    }
    if (BigInt(k) > macRangeSize(s.macs)) {
      return { ok: false, reason: `a cluster of ${k} VMs needs ${k} MACs, more than site ${site} range ${s.macs.text} holds` };
    }
    // Check both before taking either: never a half-allocation.
    const largest = s.subnets.largestFree();
    if (largest === null || largest > prefix) {
      const detail = largest === null ? 'the pool is full' : `largest free block is a /${largest}`;
      return { ok: false, reason: `no free subnet in ${site} pool ${s.pool.cidr} (${k} VMs need a /${prefix}; ${detail})` };
    }
    if (s.freeMacs.free < k) {
      return { ok: false, reason: `no free MACs in ${site} range ${s.macs.text} (${k} needed, ${s.freeMacs.free} free)` };
    }
    const network = s.subnets.alloc(prefix);
    const macs = s.freeMacs.take(k);
    if (network === undefined || macs === undefined) throw new InternalError('address allocator: free space out of sync');

    // Addresses by hand, not through ip-address: this is the per-placement path (shared/addresses.ts).
    const ips = vmAddresses(network, k, family);
    const vms = vmNames.map((vm, i) => Object.freeze({ vm, mac: formatMac(macs[i] as number), ip: ips[i] as string }));
    const lease: ClusterLease = Object.freeze({
      site,
      job,
      subnet: formatCidr(network, prefix, family),
      gateway: formatIp(gatewayAddress(network), family),
      vms: Object.freeze(vms),
      state: 'reserved',
    });
    s.leases.set(job, { lease, network, prefix, macs });
    return { ok: true, lease };
  }

  private record(site: string, job: string): LeaseRecord {
    const r = this.siteStates.get(site)?.leases.get(job);
    if (!r) throw new NotFoundError('address lease', `of job ${job} at site ${site}`);
    return r;
  }

  /** reserved → active (the cluster runs on these addresses). Idempotent. */
  activate(site: string, job: string): ClusterLease {
    const r = this.record(site, job);
    if (r.lease.state === 'releasing') {
      throw new NotAllowedError(`the lease of job ${job} at site ${site} is being released; it cannot become active again`);
    }
    if (r.lease.state !== 'active') r.lease = leaseInState(r.lease, 'active');
    return r.lease;
  }

  /** reserved|active → releasing (the agent is tearing the network down). Idempotent. */
  markReleasing(site: string, job: string): ClusterLease {
    const r = this.record(site, job);
    if (r.lease.state !== 'releasing') r.lease = leaseInState(r.lease, 'releasing');
    return r.lease;
  }

  /**
   * → free: the subnet and MACs return to the site. Returns the freed lease (state 'free'), or
   * undefined if there was none: releasing twice or an unknown lease is a no-op, since the
   * coordinator retries.
   */
  release(site: string, job: string): ClusterLease | undefined {
    const s = this.siteStates.get(site);
    const r = s?.leases.get(job);
    if (!s || !r) return undefined;
    s.leases.delete(job);
    s.subnets.release(r.network, r.prefix);
    s.freeMacs.put(r.macs);
    return freedLease(r.lease);
  }

  lease(site: string, job: string): ClusterLease | undefined {
    const r = this.siteStates.get(site)?.leases.get(job);
    return r?.lease;
  }

  /** Live leases (state != free), sorted by site then job. */
  leases(site?: string): ClusterLease[] {
    const states = site === undefined ? [...this.siteStates.values()] : [this.siteStates.get(site)].filter((s) => s !== undefined);
    const out: ClusterLease[] = [];
    for (const s of states) for (const r of s.leases.values()) out.push(r.lease);
    return out.sort(byKey);
  }

  /**
   * DESIGN.md `lease` objects, one per VM. The gateway is not listed: it has no MAC from the site's
   * range (the bridge's MAC is libvirt's), and it is the cluster's `gateway` in `brine show`.
   */
  flatLeases(site?: string): FlatLease[] {
    return this.leases(site).flatMap((l) =>
      l.vms.map((v) => ({ site: l.site, job: l.job, vm: v.vm, mac: v.mac, ip: v.ip, subnet: l.subnet, state: l.state })),
    );
  }

  /** The persisted truth: every live lease. */
  exportLeases(): ClusterLease[] {
    return this.leases();
  }

  usage(site: string): SiteUsage {
    const s = this.siteState(site);
    const largest = s.subnets.largestFree();
    const byAddresses = largest === null ? 0n : subnetCapacity(largest, s.pool.family);
    const freeMacs = BigInt(s.freeMacs.free);
    const max = byAddresses < freeMacs ? byAddresses : freeMacs;
    return {
      site,
      pool: s.pool.cidr,
      macRange: s.macs.text,
      totalAddresses: blockSize(s.pool.prefix, s.pool.family),
      freeAddresses: s.subnets.freeAddresses,
      totalMacs: macRangeSize(s.macs),
      freeMacs,
      largestFreePrefix: largest,
      maxClusterVms: Number(max),
      liveLeases: s.leases.size,
    };
  }

  /**
   * Rebuilds an allocator from the sites' settings and the persisted leases (free ones are
   * skipped). Refuses leases that do not fit the sites as configured (a site missing, a subnet
   * outside its pool, two leases sharing an address), naming the job: the coordinator must not
   * start on top of addresses that could collide.
   */
  static restore(sites: readonly SiteNetwork[], leases: readonly ClusterLease[]): AddressAllocator {
    const a = new AddressAllocator();
    for (const s of sites) a.addSite(s.site, s.pool, s.macRange);
    const usedMacs = new Map<string, number[]>();
    for (const l of leases) {
      if (l.state === 'free') continue;
      const bad = (why: string): InvalidArgumentError =>
        new InvalidArgumentError('leases', `lease of job ${l.job} at site ${l.site}: ${why}`);
      const s = a.siteStates.get(l.site);
      if (!s) throw bad('the site is not configured');
      if (s.leases.has(l.job)) throw bad('listed twice');
      if (!['reserved', 'active', 'releasing'].includes(l.state)) throw bad(`unknown state "${String(l.state)}"`);
      // The block arithmetic here goes through the library (subnet bounds, gateway, broadcast), so
      // leases that reserve computed by hand are checked by an independent implementation.
      const subnet = parseCidr(l.subnet, 'leases');
      if (!contains(s.pool, subnet)) {
        throw bad(`subnet ${subnet.cidr} is outside the site's pool ${s.pool.cidr} (did its pool change while jobs held leases?)`);
      }
      const first = subnet.network;
      const gw = parseIp(l.gateway, 'leases');
      if (gw.family !== subnet.family || gw.value !== subnetGateway(subnet)) {
        throw bad(`gateway ${l.gateway} is not the first host address of ${subnet.cidr}`);
      }
      // The last VM must come before the broadcast address (VM i is the i-th after the gateway).
      if (l.vms.length === 0 || vmAddress(first, l.vms.length - 1) >= subnetBroadcast(subnet)) {
        throw bad(`${l.vms.length} VMs do not fit in ${subnet.cidr}`);
      }
      const macs: number[] = [];
      for (let i = 0; i < l.vms.length; i++) {
        const v = l.vms[i] as VmLease;
        // VM i has the i-th address after the gateway (as reserve gives it). Comparing the text is
        // the fast path; another spelling of the right address (uncompressed IPv6) is accepted too.
        const want = vmAddress(first, i);
        if (v.ip !== formatIp(want, subnet.family)) {
          const ip = parseIp(v.ip, 'leases');
          if (ip.family !== subnet.family || ip.value !== want) {
            throw bad(`VM ${v.vm} has address ${v.ip}, but VM ${i + 1} of ${subnet.cidr} has ${formatIp(want, subnet.family)}`);
          }
        }
        const mac = macNumber(v.mac, 'leases');
        if (mac < Number(s.macs.first) || mac > Number(s.macs.last)) {
          throw bad(`VM ${v.vm} MAC ${v.mac} is outside the site's range ${s.macs.text}`);
        }
        macs.push(mac);
      }
      if (!s.subnets.carve(subnet.network, subnet.prefix)) throw bad(`subnet ${subnet.cidr} overlaps another lease`);
      let list = usedMacs.get(l.site);
      if (!list) usedMacs.set(l.site, (list = []));
      for (const mac of macs) list.push(mac);
      s.leases.set(l.job, { lease: importedLease(l), network: subnet.network, prefix: subnet.prefix, macs });
    }
    // MACs: sort once and build the free runs as the complement, catching duplicates on the way.
    for (const s of a.siteStates.values()) {
      const used = Float64Array.from(usedMacs.get(s.name) ?? []).sort();
      for (let i = 1; i < used.length; i++) {
        if (used[i] !== used[i - 1]) continue;
        const mac = used[i] as number;
        const holders = [...s.leases.values()].filter((r) => r.macs.includes(mac)).map((r) => `job ${r.lease.job}`);
        throw new InvalidArgumentError('leases', `MAC ${formatMac(mac)} at site ${s.name} is leased to both ${holders.join(' and ')}`);
      }
      s.freeMacs = new IntervalSet(Number(s.macs.first), Number(s.macs.last), used);
      s.subnets.compact();
    }
    return a;
  }
}

