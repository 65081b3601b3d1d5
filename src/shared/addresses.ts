// Address arithmetic shared by the coordinator (leases) and the agent (one libvirt network per
// cluster). Every address is a bigint and carries its family, so nothing here is IPv4-only.
// The `ip-address` library parses every address and CIDR and does the block arithmetic that runs
// per pool or per lease: canonical network, first/last address, containment and overlap. The
// per-placement path stays hand-written (plain bigint/number: VM and gateway addresses, IPv4 and
// MAC text, the allocator's block offsets): the library builds each address from strings (measured
// 3–7 µs per startAddress()/fromBigInt() on Node 20, against a whole 4-VM placement of ~7 µs).
import { Address4, Address6 } from 'ip-address';
import { InvalidArgumentError } from './errors.js';

export type IpFamily = 4 | 6;

/** A canonical CIDR block: `network` has no host bits set. */
export interface Cidr {
  family: IpFamily;
  network: bigint;
  prefix: number;
  /** Canonical text, e.g. "10.144.0.0/22" or "fd00:1::/112". */
  cidr: string;
}

/** A site's subnet pool (a CIDR large enough for one 1-VM cluster). */
export type SubnetPool = Cidr;

/** A contiguous range of MAC addresses, both ends included. */
export interface MacRange {
  first: bigint;
  last: bigint;
  /** Canonical text "first-last", e.g. "02:b1:00:00:00:00-02:b1:00:00:ff:ff". */
  text: string;
}

/** Addresses of a cluster subnet that are not VMs: network, gateway and broadcast. */
export const RESERVED_PER_SUBNET = 3;

const MAC_BITS = 48;
const MAC_MAX = (1n << 48n) - 1n;

export function familyBits(family: IpFamily): number {
  return family === 4 ? 32 : 128;
}

function familyName(family: IpFamily): string {
  return family === 4 ? 'IPv4' : 'IPv6';
}

/** One address (no prefix) → its family and value. */
export function parseIp(text: string, field: string): { family: IpFamily; value: bigint } {
  const t = checkIpText(text, field);
  try {
    if (t.includes(':')) return { family: 6, value: new Address6(t).bigInt() };
    return { family: 4, value: new Address4(t).bigInt() };
  } catch (err) {
    throw new InvalidArgumentError(field, `"${text}" is not an IP address: ${(err as Error).message}`);
  }
}

/** What the library would accept but a pool must not have; returns the trimmed text. */
function checkIpText(text: string, field: string): string {
  const t = text.trim();
  if (t === '') throw new InvalidArgumentError(field, 'expected an IP address, got an empty string');
  if (t.includes('/')) throw new InvalidArgumentError(field, `expected an address without a prefix length, got "${text}"`);
  // Zone ids ("fe80::1%eth0") name a host interface: meaningless in a pool.
  if (t.includes('%')) throw new InvalidArgumentError(field, `zone ids are not allowed, got "${text}"`);
  return t;
}

export function formatIp(value: bigint, family: IpFamily): string {
  if (value < 0n || value >> BigInt(familyBits(family)) !== 0n) {
    throw new RangeError(`${value} is not an ${familyName(family)} address`);
  }
  if (family === 6) return Address6.fromBigInt(value).correctForm();
  // Dotted quad by hand: this runs once per leased VM, and going through the library's string
  // parsing costs microseconds each (it dominated a 200-VM placement).
  const n = Number(value);
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

export function formatCidr(network: bigint, prefix: number, family: IpFamily): string {
  return `${formatIp(network, family)}/${prefix}`;
}

/** Number of addresses in a block of this prefix length. */
export function blockSize(prefix: number, family: IpFamily): bigint {
  return 1n << BigInt(familyBits(family) - prefix);
}

type IpBlock = Address4 | Address6;

// The library's view of each parsed block, so pool checks at registration parse nothing again.
const blocks = new WeakMap<Cidr, IpBlock>();

function newBlock(text: string, family: IpFamily): IpBlock {
  return family === 4 ? new Address4(text) : new Address6(text);
}

/** The `ip-address` object of a block (the one parseCidr built, or a fresh one). */
function ipBlock(c: Cidr): IpBlock {
  let b = blocks.get(c);
  if (b === undefined) {
    b = newBlock(formatCidr(c.network, c.prefix, c.family), c.family);
    blocks.set(c, b);
  }
  return b;
}


/** Any canonical CIDR, e.g. a leased subnet. Refuses host bits set, naming the block meant. */
export function parseCidr(text: string, field: string): Cidr {
  const t = text.trim();
  const m = /^([^/\s]+)\/(\d{1,3})$/.exec(t);
  if (!m) {
    throw new InvalidArgumentError(field, `expected a CIDR block such as 10.144.0.0/22, got "${text}"`);
  }
  const addr = checkIpText(m[1] as string, field);
  const family: IpFamily = addr.includes(':') ? 6 : 4;
  const bits = familyBits(family);
  const prefix = Number(m[2]);
  if (prefix > bits) {
    throw new InvalidArgumentError(field, `prefix length /${prefix} is out of range for ${familyName(family)} (0–${bits})`);
  }
  let block: IpBlock;
  let network: bigint;
  try {
    block = newBlock(`${addr}/${prefix}`, family);
    network = block.startAddress().bigInt();
  } catch (err) {
    throw new InvalidArgumentError(field, `"${addr}" is not an IP address: ${(err as Error).message}`);
  }
  if (network !== block.bigInt()) {
    throw new InvalidArgumentError(field, `"${text}" has host bits set: did you mean ${block.networkForm()}?`);
  }
  const cidr = `${block.correctForm()}/${prefix}`;
  const c: Cidr = { family, network, prefix, cidr };
  blocks.set(c, block);
  return c;
}

/** Whether block `inner` lies wholly inside block `outer` (same family). */
export function contains(outer: Cidr, inner: Cidr): boolean {
  return outer.family === inner.family && ipBlock(inner).isInSubnet(ipBlock(outer));
}

// Blocks a pool must not touch: guests would get addresses the host routes elsewhere.
const FORBIDDEN_V4: Array<[string, string]> = [
  ['0.0.0.0/8', '"this network" range'],
  ['127.0.0.0/8', 'loopback range'],
  ['224.0.0.0/4', 'multicast range'],
  ['240.0.0.0/4', 'reserved range (and broadcast)'],
];
const FORBIDDEN_V6: Array<[string, string]> = [
  ['::/127', 'unspecified and loopback addresses'],
  ['fe80::/10', 'link-local range'],
  ['ff00::/8', 'multicast range'],
];
const forbidden = (list: Array<[string, string]>): Array<{ block: Cidr; what: string }> =>
  list.map(([cidr, what]) => ({ block: parseCidr(cidr, 'internal'), what }));
const FORBIDDEN_BLOCKS = { 4: forbidden(FORBIDDEN_V4), 6: forbidden(FORBIDDEN_V6) };

/**
 * Largest pool the coordinator's allocator handles: 2^52 addresses (IPv4 always; IPv6 /76 or
 * longer). It keeps block offsets in plain numbers, exact below 2^53.
 */
export const MAX_POOL_BITS = 52;

/**
 * A site's `network.subnetPool`: a canonical CIDR, outside loopback/multicast/reserved space,
 * large enough for one cluster of one VM (network, gateway, VM, broadcast) and no larger than
 * 2^MAX_POOL_BITS addresses. The agent checks its config with this and the coordinator checks
 * every registration with it, so both refuse the same pools with the same words.
 */
export function parseSubnetPool(text: string, field: string): SubnetPool {
  const pool = parseCidr(text, field);
  for (const { block, what } of FORBIDDEN_BLOCKS[pool.family]) {
    if (overlaps(pool, block)) {
      throw new InvalidArgumentError(
        field,
        `${pool.cidr} overlaps the ${what} ${block.cidr}; use a private range such as ${pool.family === 4 ? '10.144.0.0/16' : 'fd00:b1::/112'}`,
      );
    }
  }
  const needed = subnetSizeFor(1, pool.family);
  if (pool.prefix > needed) {
    throw new InvalidArgumentError(
      field,
      `${pool.cidr} is too small to hold a single 1-VM cluster (that needs a /${needed}: network, gateway, VM, broadcast)`,
    );
  }
  if (familyBits(pool.family) - pool.prefix > MAX_POOL_BITS) {
    throw new InvalidArgumentError(
      field,
      `${pool.cidr} is too large: a pool may hold at most 2^${MAX_POOL_BITS} addresses ` +
        `(an IPv6 prefix of /${128 - MAX_POOL_BITS} or longer; a /96 already holds 4 billion)`,
    );
  }
  return pool;
}

/**
 * Prefix length of the smallest subnet holding `vmCount` VMs plus the gateway, the network and the
 * broadcast address. IPv6 uses the same rule (first and last address unused) so both families
 * behave alike; 1 VM → /30, 2–5 → /29, 6–13 → /28 for IPv4.
 */
export function subnetSizeFor(vmCount: number, family: IpFamily): number {
  if (!Number.isSafeInteger(vmCount) || vmCount < 1) {
    throw new InvalidArgumentError('vms', `must be a whole number of VMs, at least 1, got ${vmCount}`);
  }
  const needed = BigInt(vmCount) + BigInt(RESERVED_PER_SUBNET);
  const bits = familyBits(family);
  let hostBits = 0;
  while (1n << BigInt(hostBits) < needed) hostBits++;
  if (hostBits > bits) {
    throw new InvalidArgumentError('vms', `${vmCount} VMs do not fit in the ${familyName(family)} address space`);
  }
  return bits - hostBits;
}

/** How many VMs a subnet of this prefix holds (0 if it cannot hold one). */
export function subnetCapacity(prefix: number, family: IpFamily): bigint {
  const n = blockSize(prefix, family) - BigInt(RESERVED_PER_SUBNET);
  return n > 0n ? n : 0n;
}

/** The gateway is the first host address of the subnet (plain bigint: runs on every placement). */
export function gatewayAddress(network: bigint): bigint {
  return network + 1n;
}

/** The same rule through the library, for checks off the placement path (restoring leases). */
export function subnetGateway(c: Cidr): bigint {
  return ipBlock(c).startAddressExclusive().bigInt();
}

/** The broadcast (last) address of a subnet, through the library. */
export function subnetBroadcast(c: Cidr): bigint {
  return ipBlock(c).endAddress().bigInt();
}

/** VM `index` (0-based) gets the index-th address after the gateway. */
export function vmAddress(network: bigint, index: number): bigint {
  return network + 2n + BigInt(index);
}

/** The text addresses of VMs 0..count-1 of a subnet, as `vmAddress` gives them. */
export function vmAddresses(network: bigint, count: number, family: IpFamily): string[] {
  const out = new Array<string>(count);
  if (family === 4) {
    // Plain numbers: this runs for every VM of every placement.
    const first = Number(network) + 2;
    for (let i = 0; i < count; i++) {
      const n = first + i;
      out[i] = `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
    }
  } else {
    for (let i = 0; i < count; i++) out[i] = formatIp(vmAddress(network, i), family);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// MAC addresses

const MAC_PATTERN = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;

export function parseMac(text: string, field: string): bigint {
  return BigInt(macNumber(text, field));
}

/** The same as a plain number: 48 bits fit a double exactly, and it is much cheaper in bulk. */
export function macNumber(text: string, field: string): number {
  const t = text.trim();
  if (!MAC_PATTERN.test(t)) {
    throw new InvalidArgumentError(field, `expected a MAC address such as 02:b1:00:00:00:01, got "${text}"`);
  }
  return Number.parseInt(t.replace(/:/g, ''), 16);
}

const HEX_OCTETS = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Lower-case, colon-separated: the form libvirt prints, so strings compare equal. */
export function formatMac(value: bigint | number): string {
  // 48 bits fit a double exactly; two 24-bit halves keep the bit operations in int32 range.
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0 || n > Number(MAC_MAX)) throw new RangeError(`${value} is not a MAC address`);
  const hi = Math.floor(n / 0x1000000);
  const lo = n % 0x1000000;
  const o = HEX_OCTETS;
  return `${o[hi >>> 16]}:${o[(hi >>> 8) & 255]}:${o[hi & 255]}:${o[lo >>> 16]}:${o[(lo >>> 8) & 255]}:${o[lo & 255]}`;
}

const hex2 = (n: number): string => n.toString(16).padStart(2, '0');

/**
 * A site's `network.macRange`: "first-last" ("02:b1:00:00:00:00-02:b1:00:00:ff:ff") or a prefix
 * ("02:b1:00:00:00:00/32", the first 32 of the 48 bits fixed). Every address in it must be unicast
 * (bit 0x01 of the first octet clear) and locally administered (bit 0x02 set), so it can never
 * collide with a vendor-assigned NIC.
 */
export function parseMacRange(text: string, field: string): MacRange {
  const t = text.trim();
  if (t === '') {
    throw new InvalidArgumentError(
      field,
      'is empty: expected first-last (02:b1:00:00:00:00-02:b1:00:00:ff:ff) or a prefix (02:b1:00:00:00:00/32)',
    );
  }
  let first: bigint;
  let last: bigint;
  const slash = t.indexOf('/');
  if (slash >= 0) {
    first = parseMac(t.slice(0, slash), field);
    const bitsText = t.slice(slash + 1).trim();
    if (!/^\d{1,2}$/.test(bitsText) || Number(bitsText) < 1 || Number(bitsText) > MAC_BITS) {
      throw new InvalidArgumentError(field, `the prefix length after "/" must be 1–48 fixed bits, got "${bitsText}"`);
    }
    const free = BigInt(MAC_BITS - Number(bitsText));
    const base = (first >> free) << free;
    if (base !== first) {
      throw new InvalidArgumentError(
        field,
        `"${text}" has bits set after the ${bitsText}-bit prefix: did you mean ${formatMac(base)}/${bitsText}?`,
      );
    }
    last = first + (1n << free) - 1n;
  } else {
    const parts = t.split('-');
    if (parts.length !== 2) {
      throw new InvalidArgumentError(
        field,
        `expected first-last (02:b1:00:00:00:00-02:b1:00:00:ff:ff) or a prefix (02:b1:00:00:00:00/32), got "${text}"`,
      );
    }
    first = parseMac(parts[0] as string, field);
    last = parseMac(parts[1] as string, field);
    if (last < first) {
      throw new InvalidArgumentError(field, `the range is empty: ${formatMac(first)} comes after ${formatMac(last)}`);
    }
  }
  // The two flag bits live in the first octet: check every first octet the range spans.
  for (let octet = Number(first >> 40n); octet <= Number(last >> 40n); octet++) {
    if (octet & 0x01) {
      throw new InvalidArgumentError(
        field,
        `${formatMac(first)}-${formatMac(last)} includes multicast addresses (first octet ${hex2(octet)} has bit 0x01 set); ` +
          'use a unicast, locally administered range such as 02:b1:00:00:00:00/32',
      );
    }
    if (!(octet & 0x02)) {
      throw new InvalidArgumentError(
        field,
        `${formatMac(first)}-${formatMac(last)} includes globally administered (vendor-assigned) addresses ` +
          `(first octet ${hex2(octet)} has bit 0x02 clear); use a locally administered range such as 02:b1:00:00:00:00/32`,
      );
    }
  }
  return { first, last, text: `${formatMac(first)}-${formatMac(last)}` };
}

export function macRangeSize(r: Pick<MacRange, 'first' | 'last'>): bigint {
  return r.last - r.first + 1n;
}

/** Whether two pools (or blocks), or two MAC ranges, share at least one address. */
export function overlaps(a: Cidr, b: Cidr): boolean;
export function overlaps(a: MacRange, b: MacRange): boolean;
export function overlaps(a: Cidr | MacRange, b: Cidr | MacRange): boolean {
  // Two CIDR blocks are aligned, so they share an address only if one holds the other.
  if ('prefix' in a && 'prefix' in b) return contains(a, b) || contains(b, a);
  if (!('prefix' in a) && !('prefix' in b)) return a.first <= b.last && b.first <= a.last;
  throw new TypeError('overlaps: cannot compare an IP block with a MAC range');
}
