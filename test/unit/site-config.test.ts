import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { loadSiteConfig, type SiteConfig } from '../../site-agent/config.js';
import { BrineError } from '../../src/shared/errors.js';

const BASE = `
site: site-x
coordinator: 127.0.0.1:7700
listen: 127.0.0.1:7799
dataDir: .brine/site-x
nodes:
  - { name: x1, uri: "test:///default", cpus: 4, memoryMiB: 8192 }
  - { name: x2, uri: "qemu+ssh://host2/system", cpus: 2, memoryMiB: 2GiB }
images:
  tiny:
    kernel: .brine/guest/vmlinuz
    initrd: .brine/guest/initrd.img
  deb:
    disk: /var/lib/brine/debian.qcow2
network:
  subnetPool: 10.150.0.0/22
  macRange: 02:b1:0f:00:00:00/32
`;

describe('site agent config', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'brine-site-cfg-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function load(text: string): SiteConfig {
    const file = join(dir, 'site.yaml');
    writeFileSync(file, text);
    return loadSiteConfig(file);
  }

  function fails(text: string): BrineError {
    try {
      load(text);
    } catch (err) {
      expect(err).to.be.instanceOf(BrineError);
      expect((err as BrineError).code).to.equal('INVALID_ARGUMENT');
      return err as BrineError;
    }
    throw new Error('expected a config error');
  }

  it('takes one coordinator address or the list of an HA grid\'s', () => {
    expect(load(BASE).coordinator).to.deep.equal(['127.0.0.1:7700']);
    expect(load(BASE.replace('coordinator: 127.0.0.1:7700', 'coordinator: [127.0.0.1:7700, c2:7700]')).coordinator).to.deep.equal(['127.0.0.1:7700', 'c2:7700']);
    expect(fails(BASE.replace('coordinator: 127.0.0.1:7700', 'coordinator: []')).message).to.match(/coordinator/);
    expect(fails(BASE.replace('coordinator: 127.0.0.1:7700', 'coordinator: [127.0.0.1:7700, nowhere]')).message).to.match(/coordinator/);
  });

  it('parses the shipped site configs', () => {
    for (const [file, site, a, b] of [
      ['config/site-a.yaml', 'site-a', 'a1', 'a2'],
      ['config/site-b.yaml', 'site-b', 'b1', 'b2'],
    ] as const) {
      const c = loadSiteConfig(file);
      expect(c.site).to.equal(site);
      expect(c.nodes.map((n) => n.name)).to.deep.equal([a, b]);
      expect(c.nodes.every((n) => n.uri === 'test:///default')).to.equal(true);
      expect(c.images.tiny).to.deep.equal({
        kind: 'kernel',
        kernel: resolve('.brine/guest/vmlinuz'),
        initrd: resolve('.brine/guest/initrd.img'),
        cmdline: 'console=ttyS0',
      });
      expect(c.snapshots).to.deep.equal({ every: 30 * 60_000, keep: 3, replicas: 1 });
      expect(c.transfer).to.deep.equal({ maxConcurrent: 2, bandwidthMiBps: 200 });
    }
  });

  it('parses a good config, fills defaults and resolves paths', () => {
    const c = load(BASE);
    expect(c.advertise).to.equal('127.0.0.1:7799'); // defaults to listen
    expect(isAbsolute(c.dataDir)).to.equal(true);
    expect(c.dataDir).to.equal(resolve('.brine/site-x'));
    expect(c.nodes[1]?.memoryMiB).to.equal(2048);
    expect(c.images.tiny).to.deep.include({ kind: 'kernel', cmdline: 'console=ttyS0' });
    expect(c.images.deb).to.deep.equal({ kind: 'disk', disk: '/var/lib/brine/debian.qcow2' });
    expect(c.network).to.deep.equal({ subnetPool: '10.150.0.0/22', macRange: '02:b1:0f:00:00:00/32', egress: 'none' });
    expect(c.egress).to.equal(false); // isolated networks unless the operator says nat
    expect(c.snapshots).to.deep.equal({ every: 30 * 60_000, keep: 3, replicas: 1 });
    expect(c.transfer).to.deep.equal({ maxConcurrent: 2, bandwidthMiBps: 200 });
    expect(c.pollInterval).to.equal(1000);
  });

  it('takes snapshot, transfer and poll settings', () => {
    const c = load(`${BASE}snapshots: { every: 10m, keep: 5 }\ntransfer: { bandwidthMiBps: 50 }\npollInterval: 250ms\n`);
    expect(c.snapshots).to.deep.equal({ every: 10 * 60_000, keep: 5, replicas: 1 });
    expect(c.transfer).to.deep.equal({ maxConcurrent: 2, bandwidthMiBps: 50 });
    expect(c.pollInterval).to.equal(250);
  });

  it('takes a node accel (auto by default) and rejects an unknown one, naming the node', () => {
    expect(load(BASE).nodes.map((n) => n.accel)).to.deep.equal(['auto', 'auto']);
    const c = load(BASE.replace('cpus: 2, memoryMiB: 2GiB }', 'cpus: 2, memoryMiB: 2GiB, accel: tcg }'));
    expect(c.nodes.map((n) => n.accel)).to.deep.equal(['auto', 'tcg']);
    const err = fails(BASE.replace('cpus: 2, memoryMiB: 2GiB }', 'cpus: 2, memoryMiB: 2GiB, accel: hvf }'));
    expect(err.message).to.match(/nodes\.1\.accel/);
  });

  it('takes metrics.listen (off when absent) and checks it strictly', () => {
    expect(load(BASE).metrics).to.equal(undefined);
    expect(load(`${BASE}metrics: { listen: 127.0.0.1:9101 }\n`).metrics).to.deep.equal({ listen: '127.0.0.1:9101' });
    expect(fails(`${BASE}metrics: { listen: 9101 }\n`).field).to.equal('metrics.listen');
    expect(fails(`${BASE}metrics: { listen: 127.0.0.1:9101, path: /m }\n`).message).to.match(/path/);
  });

  it('takes outputDisk.max (1 GiB by default, 0 for none) and checks it', () => {
    expect(load(BASE).maxOutputDiskMiB).to.equal(1024);
    expect(load(`${BASE}outputDisk: { max: 4GiB }\n`).maxOutputDiskMiB).to.equal(4096);
    expect(load(`${BASE}outputDisk: { max: 0 }\n`).maxOutputDiskMiB).to.equal(0);
    expect(fails(`${BASE}outputDisk: { max: lots }\n`).field).to.equal('outputDisk.max');
    expect(fails(`${BASE}outputDisk: { max: -5 }\n`).field).to.equal('outputDisk.max');
  });

  it('defaults the data dir to .brine/<site>', () => {
    const c = load(BASE.replace('dataDir: .brine/site-x\n', ''));
    expect(c.dataDir).to.equal(resolve('.brine/site-x'));
  });

  it('rejects an unknown key, naming its path', () => {
    expect(fails(`${BASE}colour: blue\n`).message).to.match(/colour/);
    const nested = fails(BASE.replace('cpus: 4,', 'cpus: 4, gpus: 1,'));
    expect(nested.field).to.equal('nodes.0');
    expect(nested.message).to.match(/gpus/);
    expect(fails(`${BASE}snapshots: { every: 10m, kept: 2 }\n`).message).to.match(/snapshots.*kept|kept/);
  });

  it('rejects a wrong type, naming the key', () => {
    expect(fails(BASE.replace('cpus: 4,', 'cpus: four,')).field).to.equal('nodes.0.cpus');
    expect(fails(BASE.replace('cpus: 4,', 'cpus: -1,')).field).to.equal('nodes.0.cpus');
    expect(fails(BASE.replace('memoryMiB: 8192', 'memoryMiB: lots')).field).to.equal('nodes.0.memoryMiB');
    expect(fails(BASE.replace('memoryMiB: 8192', 'memoryMiB: 0')).field).to.equal('nodes.0.memoryMiB');
    expect(fails(BASE.replace('listen: 127.0.0.1:7799', 'listen: 7799')).field).to.equal('listen');
    expect(fails(`${BASE}snapshots: { every: soon }\n`).field).to.equal('snapshots.every');
  });

  it('rejects malformed YAML', () => {
    const err = fails('site: [unclosed\nnodes: {');
    expect(err.field).to.equal('config');
    expect(err.message).to.match(/not valid YAML/);
  });

  it('rejects duplicate node names', () => {
    const err = fails(BASE.replace('name: x2', 'name: x1'));
    expect(err.field).to.equal('nodes.1.name');
    expect(err.message).to.match(/duplicate node name "x1"/);
  });

  it('rejects names outside [a-z0-9-]', () => {
    expect(fails(BASE.replace('site: site-x', 'site: Site_X')).field).to.equal('site');
    expect(fails(BASE.replace('name: x2', 'name: "x 2"')).field).to.equal('nodes.1.name');
    expect(fails(BASE.replace('  tiny:', '  Tiny!:')).message).to.match(/images/);
  });

  it('requires at least one node and a usable image', () => {
    expect(fails(BASE.replace(/nodes:\n(  - .*\n)+/, 'nodes: []\n')).field).to.equal('nodes');
    expect(fails(BASE.replace('    initrd: .brine/guest/initrd.img\n', '')).field).to.equal('images.tiny.initrd');
    // a disk with a kernel is a kernel-booted image with a root disk: it needs the initrd too
    expect(fails(BASE.replace('    disk: /var/lib/brine/debian.qcow2\n', '    disk: /d.qcow2\n    kernel: /k\n')).field).to.equal(
      'images.deb.initrd',
    );
    expect(fails(BASE.replace('    disk: /var/lib/brine/debian.qcow2\n', '    disk: /d.qcow2\n    cmdline: x\n')).field).to.equal('images.deb.cmdline');
  });

  it('takes a kernel image with a root disk (each VM on an overlay of it)', () => {
    const c = load(BASE.replace('    disk: /var/lib/brine/debian.qcow2\n', '    disk: /d.qcow2\n    kernel: /k\n    initrd: /i\n    cmdline: root=/dev/vda\n'));
    expect(c.images.deb).to.deep.equal({ kind: 'kernel', kernel: '/k', initrd: '/i', cmdline: 'root=/dev/vda', disk: '/d.qcow2' });
  });

  it('requires the network pools', () => {
    expect(fails(BASE.replace('  macRange: 02:b1:0f:00:00:00/32\n', '')).field).to.equal('network.macRange');
  });

  // The coordinator's registration rules (shared/addresses.ts), applied before the agent writes anything.
  const pool = (p: string): string => BASE.replace('subnetPool: 10.150.0.0/22', `subnetPool: "${p}"`);
  const range = (r: string): string => BASE.replace('macRange: 02:b1:0f:00:00:00/32', `macRange: "${r}"`);

  it('refuses a bad subnet pool, naming network.subnetPool', () => {
    const cases: Array<[string, RegExp]> = [
      ['10.150.0.0/31', /too small to hold a single 1-VM cluster.*\/30/],
      ['10.150.0.0/32', /too small/],
      ['10.150.1.0/22', /host bits set: did you mean 10\.150\.0\.0\/22/],
      ['10.150.0.0', /expected a CIDR block/],
      ['10.150.0.0/33', /out of range for IPv4/],
      ['300.1.0.0/16', /not an IP address/],
      ['pool of mine', /expected a CIDR block/],
      ['', /expected a CIDR block/],
      ['127.0.0.0/16', /loopback/],
      ['224.0.0.0/24', /multicast/],
      ['fd00:b1::/64', /too large.*\/76 or longer/],
    ];
    for (const [text, message] of cases) {
      const err = fails(pool(text));
      expect(err.field, text).to.equal('network.subnetPool');
      expect(err.message, text).to.match(/^network\.subnetPool: /).and.to.match(message);
      expect(err.message, text).not.to.match(/value:/);
    }
    expect(load(pool('fd00:b1::/112')).network.subnetPool).to.equal('fd00:b1::/112');
    expect(load(pool('10.150.0.0/30')).network.subnetPool).to.equal('10.150.0.0/30');
  });

  it('refuses a multicast, globally administered or malformed MAC range, naming network.macRange', () => {
    const cases: Array<[string, RegExp]> = [
      ['01:b1:00:00:00:00/32', /multicast.*first octet 01 has bit 0x01 set/],
      ['03:00:00:00:00:00-03:00:00:00:00:ff', /multicast/],
      ['00:16:3e:00:00:00/24', /globally administered.*first octet 00 has bit 0x02 clear/],
      ['02:00:00:00:00:00/7', /multicast.*first octet 03/],
      ['02:b1:0f:00:00:01/32', /did you mean 02:b1:0f:00:00:00\/32/],
      ['02:b1:0f:00:00:10-02:b1:0f:00:00:0f', /empty.*comes after/],
      ['02:b1:0f:00:00:00/49', /1–48/],
      ['not a mac', /expected first-last/],
      ['02:b1:zz:00:00:00/32', /expected a MAC address/],
      ['', /empty/],
    ];
    for (const [text, message] of cases) {
      const err = fails(range(text));
      expect(err.field, text).to.equal('network.macRange');
      expect(err.message, text).to.match(/^network\.macRange: /).and.to.match(message);
    }
    expect(load(range('52:54:00:00:00:00-52:54:00:00:00:ff')).network.macRange).to.equal('52:54:00:00:00:00-52:54:00:00:00:ff');
  });
});
