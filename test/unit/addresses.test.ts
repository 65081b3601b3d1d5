import { expect } from 'chai';
import {
  formatIp,
  formatMac,
  gatewayAddress,
  macNumber,
  overlaps,
  parseCidr,
  parseIp,
  parseMac,
  parseMacRange,
  parseSubnetPool,
  subnetCapacity,
  subnetSizeFor,
  vmAddress,
  vmAddresses,
} from '../../src/shared/addresses.js';
import { InvalidArgumentError } from '../../src/shared/errors.js';

function refused(fn: () => unknown, field: string, pattern: RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught, 'expected an InvalidArgumentError').to.be.instanceOf(InvalidArgumentError);
  const err = caught as InvalidArgumentError;
  expect(err.field).to.equal(field);
  expect(err.message).to.match(pattern);
}

describe('addresses: subnet pools', () => {
  it('parses an IPv4 pool into family, network, prefix and canonical text', () => {
    const p = parseSubnetPool(' 10.144.0.0/22 ', 'network.subnetPool');
    expect(p).to.deep.equal({ family: 4, network: 0x0a900000n, prefix: 22, cidr: '10.144.0.0/22' });
  });

  it('parses an IPv6 pool', () => {
    const p = parseSubnetPool('fd00:b1:0:0::/112', 'network.subnetPool');
    expect(p.family).to.equal(6);
    expect(p.prefix).to.equal(112);
    expect(p.cidr).to.equal('fd00:b1::/112');
    expect(p.network).to.equal(0xfd0000b1n << 96n);
  });

  it('refuses host bits set and names the block meant', () => {
    refused(() => parseSubnetPool('10.144.1.0/22', 'network.subnetPool'), 'network.subnetPool', /host bits set.*10\.144\.0\.0\/22/);
    refused(() => parseCidr('fd00::1/64', 'x'), 'x', /host bits set.*fd00::\/64/);
  });

  it('refuses garbage, missing prefix, bad prefix length', () => {
    for (const text of ['', 'pool', '10.144.0.0', '10.144.0/22', '10.144.0.0/33', '300.1.0.0/16', '10.0.0.0/8/8', 'fd00::/129', 'fe80::%eth0/64']) {
      refused(() => parseSubnetPool(text, 'network.subnetPool'), 'network.subnetPool', /./);
    }
    refused(() => parseSubnetPool('10.0.0.0/33', 'f'), 'f', /out of range for IPv4/);
    refused(() => parseSubnetPool('10.144.0.0', 'f'), 'f', /expected a CIDR block/);
  });

  it('refuses a pool too small for a 1-VM cluster', () => {
    refused(() => parseSubnetPool('10.144.0.0/31', 'network.subnetPool'), 'network.subnetPool', /too small.*\/30/);
    expect(parseSubnetPool('10.144.0.0/30', 'f').prefix).to.equal(30);
  });

  it('refuses loopback and multicast space', () => {
    refused(() => parseSubnetPool('127.0.0.0/16', 'f'), 'f', /loopback/);
    refused(() => parseSubnetPool('224.0.0.0/24', 'f'), 'f', /multicast/);
    refused(() => parseSubnetPool('ff02::/112', 'f'), 'f', /multicast/);
  });

  it('formats and parses single addresses of both families', () => {
    expect(parseIp('10.144.0.1', 'f')).to.deep.equal({ family: 4, value: 0x0a900001n });
    expect(formatIp(0x0a900001n, 4)).to.equal('10.144.0.1');
    expect(formatIp((0xfdn << 120n) + 5n, 6)).to.equal('fd00::5');
    expect(() => formatIp(1n << 32n, 4)).to.throw(RangeError);
  });
});

describe('addresses: subnet sizes', () => {
  it('gives the smallest IPv4 subnet for K VMs + gateway + network + broadcast', () => {
    const cases: Array<[number, number]> = [
      [1, 30],
      [2, 29],
      [5, 29],
      [6, 28],
      [13, 28],
      [14, 27],
      [29, 27],
      [30, 26],
      [253, 24],
      [254, 23],
    ];
    for (const [k, prefix] of cases) expect(subnetSizeFor(k, 4), `${k} VMs`).to.equal(prefix);
  });

  it('applies the same rule to IPv6', () => {
    expect(subnetSizeFor(1, 6)).to.equal(126);
    expect(subnetSizeFor(6, 6)).to.equal(124);
  });

  it('capacity is the inverse', () => {
    expect(subnetCapacity(30, 4)).to.equal(1n);
    expect(subnetCapacity(29, 4)).to.equal(5n);
    expect(subnetCapacity(31, 4)).to.equal(0n);
  });

  it('refuses nonsense VM counts', () => {
    refused(() => subnetSizeFor(0, 4), 'vms', /at least 1/);
    refused(() => subnetSizeFor(1.5, 4), 'vms', /whole number/);
    refused(() => subnetSizeFor(2 ** 32, 4), 'vms', /do not fit/);
  });

  it('places the gateway first and the VMs after it', () => {
    const net = parseCidr('10.144.0.8/29', 'f').network;
    expect(formatIp(gatewayAddress(net), 4)).to.equal('10.144.0.9');
    expect(formatIp(vmAddress(net, 0), 4)).to.equal('10.144.0.10');
    expect(formatIp(vmAddress(net, 4), 4)).to.equal('10.144.0.14');
    expect(vmAddresses(net, 5, 4)).to.deep.equal(['10.144.0.10', '10.144.0.11', '10.144.0.12', '10.144.0.13', '10.144.0.14']);
    const wide = parseCidr('10.255.255.0/24', 'f').network;
    expect(vmAddresses(wide, 253, 4)[252]).to.equal('10.255.255.254');
    const v6 = parseCidr('fd00:b1::ff00/120', 'f').network;
    expect(vmAddresses(v6, 2, 6)).to.deep.equal(['fd00:b1::ff02', 'fd00:b1::ff03']);
  });
});

describe('addresses: MACs', () => {
  it('parses and formats lower-case colon form', () => {
    expect(parseMac('02:B1:00:00:0A:ff', 'f')).to.equal(0x02b100000affn);
    expect(formatMac(0x02b100000affn)).to.equal('02:b1:00:00:0a:ff');
    expect(formatMac(1n)).to.equal('00:00:00:00:00:01');
    expect(formatMac(0xfeffffffffffn)).to.equal('fe:ff:ff:ff:ff:ff');
    expect(macNumber('fe:ff:ff:ff:ff:ff', 'f')).to.equal(0xfeffffffffff);
    refused(() => parseMac('02:b1:00:00:00', 'f'), 'f', /expected a MAC/);
    refused(() => parseMac('02-b1-00-00-00-00', 'f'), 'f', /expected a MAC/);
  });

  it('accepts first-last ranges', () => {
    const r = parseMacRange('02:b1:00:00:00:00-02:b1:00:00:ff:ff', 'network.macRange');
    expect(r).to.deep.equal({ first: 0x02b100000000n, last: 0x02b10000ffffn, text: '02:b1:00:00:00:00-02:b1:00:00:ff:ff' });
    expect(parseMacRange('02:b1:00:00:00:07 - 02:b1:00:00:00:07', 'f').last).to.equal(0x02b100000007n);
  });

  it('accepts prefix ranges', () => {
    const r = parseMacRange('02:b1:00:00:00:00/32', 'network.macRange');
    expect(r.first).to.equal(0x02b100000000n);
    expect(r.last).to.equal(0x02b10000ffffn);
    expect(r.text).to.equal('02:b1:00:00:00:00-02:b1:00:00:ff:ff');
    expect(parseMacRange('0a:00:00:00:00:05/48', 'f').last).to.equal(0x0a0000000005n);
  });

  it('refuses multicast ranges, saying why', () => {
    refused(() => parseMacRange('03:00:00:00:00:00/32', 'network.macRange'), 'network.macRange', /multicast.*0x01/);
    // Spans 02 and 03: the second half is multicast.
    refused(() => parseMacRange('02:00:00:00:00:00/7', 'network.macRange'), 'network.macRange', /multicast.*first octet 03/);
  });

  it('refuses globally administered ranges, saying why', () => {
    refused(() => parseMacRange('00:16:3e:00:00:00/24', 'network.macRange'), 'network.macRange', /globally administered.*0x02/);
    refused(() => parseMacRange('fc:00:00:00:00:00-fc:00:00:00:00:ff', 'f'), 'f', /./); // fc = 1111 1100: 0x02 clear
    // 0x52 = 0101 0010: unicast and locally administered, so libvirt's own 52:54:00 prefix is acceptable.
    expect(parseMacRange('52:54:00:00:00:00-52:54:00:00:00:ff', 'f').first).to.equal(0x525400000000n);
  });

  it('refuses empty, reversed and malformed ranges', () => {
    refused(() => parseMacRange('', 'network.macRange'), 'network.macRange', /empty/);
    refused(() => parseMacRange('02:b1:00:00:00:10-02:b1:00:00:00:0f', 'f'), 'f', /empty.*comes after/);
    refused(() => parseMacRange('02:b1:00:00:00:00/0', 'f'), 'f', /1–48/);
    refused(() => parseMacRange('02:b1:00:00:00:00/49', 'f'), 'f', /1–48/);
    refused(() => parseMacRange('02:b1:00:00:00:01/32', 'f'), 'f', /did you mean 02:b1:00:00:00:00\/32/);
    refused(() => parseMacRange('02:b1:00:00:00:00-02:b1:00:00:00:01-02:b1:00:00:00:02', 'f'), 'f', /expected first-last/);
  });
});

describe('addresses: overlaps', () => {
  it('detects overlapping and disjoint pools', () => {
    const a = parseCidr('10.144.0.0/22', 'f');
    expect(overlaps(a, parseCidr('10.144.3.0/24', 'f'))).to.equal(true);
    expect(overlaps(a, parseCidr('10.0.0.0/8', 'f'))).to.equal(true);
    expect(overlaps(a, parseCidr('10.144.4.0/22', 'f'))).to.equal(false);
    expect(overlaps(a, parseCidr('::/0', 'f'))).to.equal(false); // different families never overlap
  });

  it('detects overlapping and disjoint MAC ranges', () => {
    const a = parseMacRange('02:b1:00:00:00:00/32', 'f');
    expect(overlaps(a, parseMacRange('02:b1:00:00:ff:ff-02:b1:00:01:00:00', 'f'))).to.equal(true);
    expect(overlaps(a, parseMacRange('02:b1:00:01:00:00/32', 'f'))).to.equal(false);
  });
});
