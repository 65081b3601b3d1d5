// Issue 12: the NoCloud seed's content, the seed disk in the domain XML, the DNS names of a
// cluster network, and the shared rules for user-data and meta.
import { expect } from 'chai';
import { parse } from 'yaml';
import { buildDomainXml, type DomainSpec } from '../../site-agent/domain-xml.js';
import { guardRestoredXml } from '../../site-agent/domain-guard.js';
import { buildNetworkXml, parseDhcpHosts } from '../../site-agent/network-xml.js';
import { SEED_TARGET, seedFiles, validateSeedSpec } from '../../site-agent/seed.js';
import { fileDisks } from '../../site-agent/snapshots.js';
import { checkMeta, checkUserData, parseMetaFlags } from '../../src/shared/seed-input.js';
import { checkSeedRequest, seedRecord, seedSpec, seedWire } from '../../src/coordinator/user-data.js';

describe('cloud-init seeds and cluster names', () => {
  describe('seed content', () => {
    it('meta-data: the user meta plus instance-id = domain name and local-hostname = VM name; values quoted where YAML needs it', () => {
      const files = seedFiles({ jobId: 'jabc', userData: Buffer.from('#!/bin/sh\necho hi\n'), meta: { note: 'a: b # c', n: '007' } }, 'demo-1');
      expect(parse(files['meta-data'])).to.deep.equal({ note: 'a: b # c', n: '007', 'instance-id': 'brine-jabc-demo-1', 'local-hostname': 'demo-1' });
      expect(files['user-data'].toString()).to.equal('#!/bin/sh\necho hi\n');
      // DHCP on every Ethernet NIC by name: the MAC changes when the job moves
      expect(parse(files['network-config'])).to.deep.equal({ version: 2, ethernets: { 'e*': { match: { name: 'e*' }, dhcp4: true } } });
    });

    it('a user meta key cannot replace brine’s own', () => {
      expect(() => validateSeedSpec({ userData: Buffer.alloc(0), meta: { 'local-hostname': 'evil' } })).to.throw(/cluster\.meta\.local-hostname: is set by brine/);
    });
  });

  describe('rules', () => {
    it('user-data: at most the limit, the message says the size and the limit', () => {
      expect(() => checkUserData(65536, 65536)).not.to.throw();
      expect(() => checkUserData(65537, 65536, '--user-data')).to.throw(/^--user-data: is 65537 bytes; at most 65536 bytes \(64 KiB\)/);
    });

    it('meta: key shape, reserved keys, value length and control characters, key count', () => {
      expect(() => checkMeta({ 'a.b_c-1': 'x y' })).not.to.throw();
      expect(() => checkMeta({ A: '1' })).to.throw(/^meta: key "A" must be/);
      expect(() => checkMeta({ 'instance-id': '1' })).to.throw(/^meta\.instance-id: is set by brine/);
      expect(() => checkMeta({ k: 'x'.repeat(1025) })).to.throw(/^meta\.k: at most 1024 characters/);
      expect(() => checkMeta({ k: 'a\tb' })).to.throw(/^meta\.k: must not contain control characters/);
      expect(() => checkMeta(Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, ''])))).to.throw(/^meta: at most 32 keys/);
    });

    it('--meta KEY=VALUE: the first = splits, a repeated key or a missing = is refused', () => {
      expect(parseMetaFlags(['a=1', 'b=x=y', 'c='])).to.deep.equal({ a: '1', b: 'x=y', c: '' });
      expect(() => parseMetaFlags(['a=1', 'a=2'])).to.throw(/--meta: key "a" given twice/);
      expect(() => parseMetaFlags(['=1'])).to.throw(/--meta: expected KEY=VALUE/);
    });
  });

  describe('coordinator record', () => {
    it('keeps the bytes as base64 in the record, hands them to the agent, shows only size and keys', () => {
      const req = { userData: Buffer.from([0, 1, 2, 255]), meta: { k: 'v' } };
      checkSeedRequest(req, { userDataMaxBytes: 4 });
      expect(() => checkSeedRequest(req, { userDataMaxBytes: 3 })).to.throw(/^userData: is 4 bytes/);
      const rec = seedRecord(req);
      expect(rec).to.deep.equal({ userData: 'AAEC/w==', userDataBytes: 4, meta: { k: 'v' } });
      expect(JSON.parse(JSON.stringify(rec))).to.deep.equal(rec);
      expect(seedSpec(rec).userData.equals(req.userData)).to.equal(true);
      expect(seedWire(rec)).to.deep.equal({ userDataBytes: 4, meta: { k: 'v' } });
      // records from before issue 12
      expect(seedSpec({})).to.deep.equal({ userData: Buffer.alloc(0), meta: {} });
      expect(seedWire({})).to.deep.equal({ userDataBytes: 0, meta: {} });
    });
  });

  describe('domain XML', () => {
    const spec: DomainSpec = {
      type: 'qemu',
      arch: 'x86_64',
      name: 'brine-j1-demo-0',
      memoryMiB: 128,
      vcpus: 1,
      boot: { kind: 'disk', overlay: '/data/disks/brine-j1-demo-0.qcow2' },
      mac: '02:b1:00:00:00:01',
      network: 'brine-site-a-j1',
      consolePath: '/data/consoles/brine-j1-demo-0.log',
      metadata: { site: 'site-a', job: 'j1', vm: 'demo-0', node: 'a1', mac: '02:b1:00:00:00:01', ip: '10.0.0.2', image: 'tiny' },
      seed: { path: '/data/seeds/brine-j1-demo-0.iso', target: SEED_TARGET },
    };

    it('attaches the seed read-only after the root disk; a capture leaves it out (not the VM’s state)', () => {
      const xml = buildDomainXml(spec);
      const disks = fileDisks(xml);
      expect(disks.map((d) => [d.target, d.source, d.format, d.readonly])).to.deep.equal([
        ['vda', '/data/disks/brine-j1-demo-0.qcow2', 'qcow2', false],
        [SEED_TARGET, '/data/seeds/brine-j1-demo-0.iso', 'raw', true],
      ]);
    });

    it('the restore guard allows this VM’s seed and refuses another path in its place', () => {
      const xml = buildDomainXml(spec);
      const owned = {
        metadata: /<brine:vm [^>]*\/>/.exec(xml)?.[0] ?? '',
        files: ['/data/disks/brine-j1-demo-0.qcow2', '/data/consoles/brine-j1-demo-0.log', '/data/seeds/brine-j1-demo-0.iso'],
        image: { kind: 'disk' as const, disk: '/images/base.qcow2' },
        networks: ['brine-site-a-j1'],
      };
      expect(guardRestoredXml(xml, owned, 'VM demo-0')).to.equal(xml);
      expect(() => guardRestoredXml(xml.replace('/data/seeds/brine-j1-demo-0.iso', '/etc/shadow'), owned, 'VM demo-0')).to.throw(/a host path that is not this VM's: "\/etc\/shadow"/);
    });
  });

  describe('network DNS', () => {
    it('answers each VM by its name and <vm>.<job>.brine, keeps names local, and DHCP is unchanged', () => {
      const hosts = [
        { name: 'demo-0', mac: '02:B1:00:00:00:01', ip: '10.144.0.2' },
        { name: 'demo-1', mac: '02:b1:00:00:00:02', ip: '10.144.0.3' },
      ];
      const xml = buildNetworkXml({ site: 'site-a', jobId: 'j1', subnet: '10.144.0.0/29', gateway: '10.144.0.1', hosts });
      expect(xml).to.include(`<domain name='j1.brine' localOnly='yes'/>`);
      expect(xml).to.include(`<dns forwardPlainNames='no'>`);
      expect(xml).to.include(`<host ip='10.144.0.3'>\n      <hostname>demo-1</hostname>\n      <hostname>demo-1.j1.brine</hostname>\n    </host>`);
      expect(parseDhcpHosts(xml)).to.deep.equal(hosts.map((h) => ({ ...h, mac: h.mac.toLowerCase() })));
    });
  });
});
