// The cluster manager on libvirt's test driver (test:///default) through the real binding
// (libvirt.so.0 in a worker thread). The test driver's state lives in this process and is shared
// by every connection to test:///default, like one libvirtd shared by two nodes.
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClusterManager } from '../../site-agent/clusters.js';
import { loadInstanceId } from '../../site-agent/registration.js';
import { parseVmMetadata } from '../../site-agent/domain-xml.js';
import { parseDhcpHosts } from '../../site-agent/network-xml.js';
import { openLibvirt } from '../../site-agent/libvirt/connection.js';
import type { LibvirtConnection } from '../../site-agent/libvirt/types.js';
import { BrineError } from '../../src/shared/errors.js';
import type { ClusterSpec, ClusterStatus } from '../../src/shared/proto.js';

const URI = 'test:///default';
const NODES = [
  { name: 'n1', uri: URI, cpus: 8, memoryMiB: 8192 },
  { name: 'n2', uri: URI, cpus: 8, memoryMiB: 8192 },
];
const IMAGES = { tiny: { kind: 'kernel' as const, kernel: '/nonexistent/vmlinuz', initrd: '/nonexistent/initrd.img', cmdline: 'console=ttyS0' } };

function spec(jobId: string, k = 3, octet = 0): ClusterSpec {
  return {
    jobId,
    jobName: 'demo',
    image: 'tiny',
    userData: Buffer.alloc(0),
    meta: {},
    egress: false,
    outputDiskMiB: 0,
    cpus: 1,
    memoryMiB: 128,
    subnet: `10.199.${octet}.0/29`,
    gateway: `10.199.${octet}.1`,
    vms: Array.from({ length: k }, (_, i) => ({
      name: `vm-${i}`,
      node: i % 2 === 0 ? 'n1' : 'n2',
      mac: `02:b1:99:00:${octet.toString(16).padStart(2, '0')}:${(i + 1).toString(16).padStart(2, '0')}`,
      ip: `10.199.${octet}.${i + 2}`,
    })),
  };
}

/** The real connection, with some calls made to fail. */
function failing(real: LibvirtConnection, failDefineAt: number): LibvirtConnection {
  let defines = 0;
  return new Proxy(real, {
    get(target, prop) {
      if (prop === 'defineDomain') {
        return async (xml: string) => {
          defines += 1;
          if (defines === failDefineAt) throw new Error('injected failure');
          return target.defineDomain(xml);
        };
      }
      const v = Reflect.get(target, prop, target) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

async function until<T>(what: string, fn: () => T | undefined | Promise<T | undefined>, timeoutMs = 5_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('cluster manager on test:///default', function () {
  this.timeout(30_000);
  let dataDir: string;
  let site: string;
  /** an independent view of libvirt, as an operator's virsh would have */
  let probe: LibvirtConnection;
  const managers: ClusterManager[] = [];

  async function open(options: { failDefineAt?: number } = {}): Promise<ClusterManager> {
    const m = await ClusterManager.open({
      site,
      dataDir,
      nodes: NODES,
      images: IMAGES,
      pollIntervalMs: 50,
      connect: async (uri) => {
        const real = await openLibvirt(uri);
        return options.failDefineAt ? failing(real, options.failDefineAt) : real;
      },
    });
    managers.push(m);
    return m;
  }

  async function ours(): Promise<{ domains: { name: string; state: string }[]; networks: { name: string; active: boolean }[] }> {
    // Domain names carry no site (`brine-<job>-<vm>`): a domain is this test's by its metadata.
    const prefix = `brine-${site}-`;
    const domains: { name: string; state: string }[] = [];
    for (const d of await probe.listDomains()) {
      if (!d.name.startsWith('brine-')) continue;
      const xml = await probe.domainXml(d.name).catch(() => '');
      if (parseVmMetadata(xml)?.site === site) domains.push({ name: d.name, state: d.state });
    }
    return {
      domains,
      networks: (await probe.listNetworks()).filter((n) => n.name.startsWith(prefix)).map((n) => ({ name: n.name, active: n.active })),
    };
  }

  before(async () => {
    probe = await openLibvirt(URI);
  });
  after(async () => {
    await probe.close();
  });
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'brine-cm-'));
    site = `t${Math.random().toString(36).slice(2, 8)}`;
  });
  afterEach(async () => {
    for (const m of managers.splice(0)) {
      await m.destroyAll().catch(() => {});
      await m.close();
    }
    // whatever a test left behind, by name
    const left = await ours();
    for (const d of left.domains) {
      await probe.destroyDomain(d.name);
      await probe.undefineDomain(d.name);
    }
    for (const n of left.networks) {
      await probe.destroyNetwork(n.name);
      await probe.undefineNetwork(n.name);
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('deploys a 3-VM cluster: 3 running domains and 1 active network with 3 DHCP hosts', async () => {
    const m = await open();
    const status = await m.deploy(spec('j1'));
    expect(status.jobId).to.equal('j1');
    expect(status.network).to.equal(`brine-${site}-j1`);
    expect(status.vms.map((v) => [v.name, v.node, v.state])).to.deep.equal([
      ['vm-0', 'n1', 'RUNNING'],
      ['vm-1', 'n2', 'RUNNING'],
      ['vm-2', 'n1', 'RUNNING'],
    ]);
    expect(status.vms[0]?.domain).to.equal(`brine-j1-vm-0`);
    expect(status.vms[0]?.console).to.equal(join(dataDir, 'consoles', `brine-j1-vm-0.log`));

    const seen = await ours();
    expect(seen.domains).to.have.length(3);
    expect(seen.domains.every((d) => d.state === 'running')).to.equal(true);
    expect(seen.networks).to.deep.equal([{ name: `brine-${site}-j1`, active: true }]);

    const netXml = await probe.networkXml(`brine-${site}-j1`);
    expect(parseDhcpHosts(netXml)).to.deep.equal([
      { name: 'vm-0', mac: '02:b1:99:00:00:01', ip: '10.199.0.2' },
      { name: 'vm-1', mac: '02:b1:99:00:00:02', ip: '10.199.0.3' },
      { name: 'vm-2', mac: '02:b1:99:00:00:03', ip: '10.199.0.4' },
    ]);
    expect(netXml).to.include(`<ip address='10.199.0.1' prefix='29'>`);

    const domXml = await probe.domainXml(`brine-j1-vm-1`);
    expect(domXml).to.match(/<domain type='test'/);
    expect(domXml).to.include(`<mac address='02:b1:99:00:00:02'/>`);
    expect(parseVmMetadata(domXml)).to.deep.include({ site, job: 'j1', vm: 'vm-1', node: 'n2' });

    expect(await m.status()).to.deep.equal([status]);
  });

  it('is idempotent: deploying again leaves exactly the same 3 domains', async () => {
    const m = await open();
    const first = await m.deploy(spec('j1'));
    const uuids = async (): Promise<string[]> =>
      (await probe.listDomains())
        .filter((d) => d.name.startsWith(`brine-j1-`))
        .map((d) => d.uuid)
        .sort();
    const before = await uuids();
    const again = await m.deploy(spec('j1'));
    expect(again).to.deep.equal(first);
    expect(await uuids()).to.deep.equal(before);
    expect((await ours()).networks).to.have.length(1);
    // concurrent retries are serialised, never duplicated
    await Promise.all([m.deploy(spec('j1')), m.deploy(spec('j1')), m.deploy(spec('j1'))]);
    expect(await uuids()).to.deep.equal(before);
  });

  it('deploys a missing VM of a partly present cluster and leaves the others alone', async () => {
    const m = await open();
    await m.deploy(spec('j1'));
    const vm1 = `brine-j1-vm-1`;
    await probe.destroyDomain(vm1);
    await probe.undefineDomain(vm1);
    const status = await m.deploy(spec('j1'));
    expect(status.vms.map((v) => v.state)).to.deep.equal(['RUNNING', 'RUNNING', 'RUNNING']);
    expect((await ours()).domains).to.have.length(3);
  });

  it('reports a VM stopped behind its back as SHUTOFF, and one undefined as MISSING', async () => {
    const m = await open();
    const changes: ClusterStatus[] = [];
    m.onChange((s) => changes.push(s));
    await m.deploy(spec('j1'));
    m.startPolling();
    await new Promise((r) => setTimeout(r, 200));
    expect(changes).to.deep.equal([]); // nothing changed by itself yet

    await probe.destroyDomain(`brine-j1-vm-2`);
    const change = await until('a SHUTOFF report', () => changes.find((c) => c.vms.some((v) => v.state === 'SHUTOFF')));
    expect(change.jobId).to.equal('j1');
    expect(change.vms.map((v) => v.state)).to.deep.equal(['RUNNING', 'RUNNING', 'SHUTOFF']);

    await probe.undefineDomain(`brine-j1-vm-2`);
    const missing = await until('a MISSING report', () => changes.find((c) => c.vms.some((v) => v.state === 'MISSING')));
    expect(missing.vms.map((v) => v.state)).to.deep.equal(['RUNNING', 'RUNNING', 'MISSING']);
    await m.stopPolling();
  });

  it('destroys a cluster: libvirt shows nothing of it afterwards, and destroying again succeeds', async () => {
    const m = await open();
    await m.deploy(spec('j1'));
    await m.deploy(spec('j2', 2, 1));
    await m.destroy('j1');
    const seen = await ours();
    expect(seen.domains.map((d) => d.name).sort()).to.deep.equal([`brine-j2-vm-0`, `brine-j2-vm-1`]);
    expect(seen.networks.map((n) => n.name)).to.deep.equal([`brine-${site}-j2`]);
    expect((await m.status()).map((c) => c.jobId)).to.deep.equal(['j2']);
    await m.destroy('j1');
    await m.destroy('never-deployed');
  });

  it('leaves nothing behind when a deploy fails midway', async () => {
    const m = await open({ failDefineAt: 3 });
    let err: unknown;
    try {
      await m.deploy(spec('j1'));
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(BrineError);
    expect((err as BrineError).message).to.match(/deploying job j1 .*injected failure.*removed/);
    expect(await ours()).to.deep.equal({ domains: [], networks: [] });
    expect(await m.status()).to.deep.equal([]);
  });

  it('refuses a VM on an unknown node or an unknown image before touching libvirt', async () => {
    const m = await open();
    const bad = spec('j1');
    (bad.vms[1] as { node: string }).node = 'nope';
    for (const [s, field] of [
      [bad, 'cluster.vms[1].node'],
      [{ ...spec('j1'), image: 'huge' }, 'cluster.image'],
    ] as const) {
      try {
        await m.deploy(s);
        expect.fail('deploy should have failed');
      } catch (e) {
        expect((e as BrineError).code).to.equal('INVALID_ARGUMENT');
        expect((e as BrineError).field).to.equal(field);
      }
    }
    expect(await ours()).to.deep.equal({ domains: [], networks: [] });
  });

  it('adopts what runs after a restart, attributing VMs to nodes by metadata, and never duplicates', async () => {
    const first = await open();
    const deployed = await first.deploy(spec('j1'));
    // a new agent process over the same libvirt (the first one still holds the test driver's state)
    const second = await open();
    const adopted = await second.adopt();
    expect(adopted).to.deep.equal([deployed]);
    await first.close();
    const again = await second.deploy(spec('j1'));
    expect(again).to.deep.equal(deployed);
    expect((await ours()).domains).to.have.length(3);
    // another site on the same libvirt sees none of it
    const otherSite = await ClusterManager.open({ site: `${site}x`, dataDir, nodes: NODES, images: IMAGES });
    managers.push(otherSite);
    expect(await otherSite.adopt()).to.deep.equal([]);
  });

  it('reopens a libvirt connection that was lost', async () => {
    const opened: LibvirtConnection[] = [];
    const m = await ClusterManager.open({
      site,
      dataDir,
      nodes: NODES,
      images: IMAGES,
      connect: async (uri) => {
        const c = await openLibvirt(uri);
        opened.push(c);
        return c;
      },
    });
    managers.push(m);
    const deployed = await m.deploy(spec('j1'));
    await opened[0]?.close(); // as if libvirtd restarted
    try {
      await m.status();
      expect.fail('the first call on a lost connection fails');
    } catch (e) {
      expect((e as BrineError).code).to.equal('UNAVAILABLE');
    }
    expect(await m.status()).to.deep.equal([deployed]);
    expect(opened).to.have.length(2);
  });

  it('fences clusters the coordinator no longer places, but not a deploy newer than the heartbeat', async () => {
    const m = await open();
    await m.deploy(spec('j1'));
    await m.deploy(spec('j2', 2, 1));
    const mark = m.fenceMark(); // the heartbeat is sent now…
    await m.deploy(spec('j3', 1, 2)); // …a deploy arrives before its answer
    const fenced = await m.fence(['j2'], mark); // the answer: only j2 is placed here
    expect(fenced).to.deep.equal(['j1']);
    expect((await m.status()).map((c) => c.jobId)).to.deep.equal(['j2', 'j3']);
    expect((await ours()).networks.map((n) => n.name).sort()).to.deep.equal([`brine-${site}-j2`, `brine-${site}-j3`]);
  });
});

describe('agent instance id', () => {
  it('keeps one instance id per data dir', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'brine-reg-'));
    try {
      const id = await loadInstanceId(dataDir);
      expect(id).to.match(/^[0-9a-f-]{36}$/);
      expect(await loadInstanceId(dataDir)).to.equal(id);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
