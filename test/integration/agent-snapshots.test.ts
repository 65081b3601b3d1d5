// Coordinated snapshots, restores, pruning and start-up recovery (site-agent/snapshots.ts) on
// libvirt's test driver (test:///default), through the cluster manager and the real snapshot store
// in temp dirs. The test driver saves only the domain XML, so this tier covers the logic (locking,
// idempotence, failures, recovery, verification); test/qemu/snapshots.test.ts covers real memory.
import { expect } from 'chai';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClusterManager } from '../../site-agent/clusters.js';
import { openLibvirt } from '../../site-agent/libvirt/connection.js';
import type { LibvirtConnection } from '../../site-agent/libvirt/types.js';
import { nodeFs, SnapshotStore, storeDir, type StoreFs } from '../../site-agent/snapshot-store/index.js';
import { decodeChunkSync } from '../../site-agent/snapshot-store/codec.js';
import { readStored, removePackOf, replaceChunkContent } from '../helpers/store-files.js';
import { parseVmMetadata } from '../../site-agent/domain-xml.js';
import { ClusterSnapshots, SnapshotDamagedError, SnapshotFailedError, type CaptureMethod } from '../../site-agent/snapshots.js';
import { BrineError } from '../../src/shared/errors.js';
import type { ClusterSpec } from '../../src/shared/proto.js';

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
    subnet: `10.198.${octet}.0/29`,
    gateway: `10.198.${octet}.1`,
    vms: Array.from({ length: k }, (_, i) => ({
      name: `vm-${i}`,
      node: i % 2 === 0 ? 'n1' : 'n2',
      mac: `02:b1:98:00:${octet.toString(16).padStart(2, '0')}:${(i + 1).toString(16).padStart(2, '0')}`,
      ip: `10.198.${octet}.${i + 2}`,
    })),
  };
}

type Inject = Partial<Record<'suspendDomain' | 'saveDomain' | 'restoreDomain' | 'resumeDomain', (name: string) => Error | null>>;

/** The real connection, with some calls made to fail (by name of the domain or the file). */
function failing(real: LibvirtConnection, inject: Inject): LibvirtConnection {
  return new Proxy(real, {
    get(target, prop) {
      const fail = typeof prop === 'string' ? inject[prop as keyof Inject] : undefined;
      const v = Reflect.get(target, prop, target) as unknown;
      if (fail && typeof v === 'function') {
        return async (...args: unknown[]) => {
          const err = fail(String(args[0]));
          if (err) throw err;
          return (v as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        };
      }
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

async function rejects(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

describe('agent snapshots on test:///default (ClusterManager + ClusterSnapshots + SnapshotStore)', function () {
  this.timeout(60_000);
  let dataDir: string;
  let site: string;
  let probe: LibvirtConnection;
  let inject: Inject;
  let manager: ClusterManager;
  let store: SnapshotStore;
  let snaps: ClusterSnapshots;
  const opened: ClusterManager[] = [];

  async function open(opts: { storeFs?: StoreFs; method?: CaptureMethod } = {}): Promise<void> {
    const connect = async (uri: string): Promise<LibvirtConnection> => failing(await openLibvirt(uri), inject);
    manager = await ClusterManager.open({ site, dataDir, nodes: NODES, images: IMAGES, pollIntervalMs: 50, connect });
    opened.push(manager);
    store = await SnapshotStore.open(storeDir(dataDir), opts.storeFs ? { fs: opts.storeFs } : {});
    snaps = new ClusterSnapshots({
      clusters: manager,
      store,
      dataDir,
      site: { nodes: NODES, images: IMAGES },
      connect,
      ...(opts.method ? { method: opts.method } : {}),
    });
  }

  async function ours(): Promise<{ domains: Array<{ name: string; state: string }>; networks: string[] }> {
    // Domain names carry no site (`brine-<job>-<vm>`): a domain is this test's by its metadata.
    const prefix = `brine-${site}-`;
    const domains: Array<{ name: string; state: string }> = [];
    for (const d of await probe.listDomains()) {
      if (!d.name.startsWith('brine-')) continue;
      const xml = await probe.domainXml(d.name).catch(() => '');
      if (parseVmMetadata(xml)?.site === site) domains.push({ name: d.name, state: d.state });
    }
    return {
      domains: domains.sort((a, b) => a.name.localeCompare(b.name)),
      networks: (await probe.listNetworks()).filter((n) => n.name.startsWith(prefix)).map((n) => n.name),
    };
  }

  const macsOf = async (): Promise<string[]> => {
    const out: string[] = [];
    for (const d of (await ours()).domains) out.push(/<mac address='([^']+)'/.exec(await probe.domainXml(d.name))?.[1] ?? '');
    return out;
  };

  before(async () => {
    probe = await openLibvirt(URI);
  });
  after(async () => {
    await probe.close();
  });
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'brine-snap-'));
    site = `s${Math.random().toString(36).slice(2, 8)}`;
    inject = {};
  });
  afterEach(async () => {
    inject = {};
    for (const m of opened.splice(0)) {
      await m.destroyAll().catch(() => {});
      await m.close();
    }
    const left = await ours();
    for (const d of left.domains) {
      await probe.destroyDomain(d.name);
      await probe.undefineDomain(d.name);
    }
    for (const n of left.networks) {
      await probe.destroyNetwork(n);
      await probe.undefineNetwork(n);
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('checkpoints a running 3-VM cluster: VMs running again, a manifest with 3 VMs, skew and downtime recorded', async () => {
    await open();
    await manager.deploy(spec('j1'));
    const snap = await snaps.take({ jobId: 'j1', snapshotId: 'j1-s1', kind: 'checkpoint' });
    expect(snap).to.include({ id: 'j1-s1', job: 'j1', kind: 'checkpoint', damaged: false });
    expect(snap.sites).to.deep.equal([site]);
    expect(snap.vms.map((v) => v.name)).to.deep.equal(['vm-0', 'vm-1', 'vm-2']);
    expect(snap.vms.every((v) => Number(v.bytes) > 0)).to.equal(true);
    expect(Number(snap.pauseSkewMs)).to.be.at.least(0);
    expect(Number(snap.downtimeMs)).to.be.at.least(0);
    expect(Number(snap.totalBytes)).to.equal(snap.vms.reduce((s, v) => s + Number(v.bytes), 0));

    expect((await ours()).domains.map((d) => d.state)).to.deep.equal(['running', 'running', 'running']);
    expect((await manager.clusterStatus('j1'))?.vms.map((v) => v.state)).to.deep.equal(['RUNNING', 'RUNNING', 'RUNNING']);
    // persistent definitions kept
    for (const d of (await ours()).domains) expect((await probe.lookupDomain(d.name))?.persistent).to.equal(true);

    const m = await store.manifest('j1-s1');
    expect(m.files.map((f) => f.name).sort()).to.deep.equal(['vm-0/domain.xml', 'vm-0/memory', 'vm-1/domain.xml', 'vm-1/memory', 'vm-2/domain.xml', 'vm-2/memory']);
    expect(m.meta).to.include({ kind: 'checkpoint', method: 'save', site });
    expect((await store.verify('j1-s1')).ok).to.equal(true);
    // the work files are gone
    expect(readdirSync(join(dataDir, 'work'))).to.deep.equal([]);

    // A second checkpoint; and a retry of the first returns it without capturing again.
    const second = await snaps.take({ jobId: 'j1', snapshotId: 'j1-s2', kind: 'checkpoint' });
    expect(second.id).to.equal('j1-s2');
    const again = await snaps.take({ jobId: 'j1', snapshotId: 'j1-s1', kind: 'checkpoint' });
    expect(again).to.deep.equal(snap);
    expect((await store.list('j1')).map((s) => s.id)).to.deep.equal(['j1-s1', 'j1-s2']);
    expect((await ours()).domains.map((d) => d.state)).to.deep.equal(['running', 'running', 'running']);
  });

  it('refuses: a job with no cluster, a paused VM, a bad kind, an id used by another job', async () => {
    await open();
    const none = await rejects(snaps.take({ jobId: 'nope', snapshotId: 'x1', kind: 'checkpoint' }));
    expect(none).to.be.instanceOf(BrineError).with.property('code', 'FAILED_PRECONDITION');
    await manager.deploy(spec('j1'));
    expect(await rejects(snaps.take({ jobId: 'j1', snapshotId: 'x1', kind: 'nap' }))).to.have.property('code', 'INVALID_ARGUMENT');
    expect(await rejects(snaps.take({ jobId: 'j1', snapshotId: '../x', kind: 'checkpoint' }))).to.have.property('code', 'INVALID_ARGUMENT');
    await probe.suspendDomain(`brine-j1-vm-1`);
    const paused = await rejects(snaps.take({ jobId: 'j1', snapshotId: 'x1', kind: 'checkpoint' }));
    expect(paused).to.have.property('code', 'FAILED_PRECONDITION');
    expect(paused.message).to.match(/vm-1 is PAUSED/);
    await probe.resumeDomain(`brine-j1-vm-1`);
    await snaps.take({ jobId: 'j1', snapshotId: 'x1', kind: 'checkpoint' });
    await manager.deploy(spec('j2', 1, 1));
    expect(await rejects(snaps.take({ jobId: 'j2', snapshotId: 'x1', kind: 'checkpoint' }))).to.have.property('code', 'ALREADY_EXISTS');
  });

  it('suspends (nothing left on the nodes, snapshot kept), then restores 3 running VMs with the same MACs', async () => {
    await open();
    await manager.deploy(spec('j1'));
    const macs = await macsOf();
    const consoleDir = join(dataDir, 'consoles');
    const susp = await snaps.take({ jobId: 'j1', snapshotId: 'j1-s1', kind: 'suspend' });
    expect(susp.kind).to.equal('suspend');
    expect(await ours()).to.deep.equal({ domains: [], networks: [] });
    expect(await manager.clusterStatus('j1')).to.equal(null);
    expect((await manager.status()).map((c) => c.jobId)).to.deep.equal([]);
    expect(existsSync(consoleDir) ? readdirSync(consoleDir) : []).to.deep.equal([]);
    expect((await store.verify('j1-s1')).ok).to.equal(true);
    // retried: the same answer, nothing recreated
    expect(await snaps.take({ jobId: 'j1', snapshotId: 'j1-s1', kind: 'suspend' })).to.deep.equal(susp);
    expect(await ours()).to.deep.equal({ domains: [], networks: [] });

    const status = await snaps.restore(spec('j1'), 'j1-s1');
    expect(status.network).to.equal(`brine-${site}-j1`);
    expect(status.vms.map((v) => [v.name, v.node, v.state])).to.deep.equal([
      ['vm-0', 'n1', 'RUNNING'],
      ['vm-1', 'n2', 'RUNNING'],
      ['vm-2', 'n1', 'RUNNING'],
    ]);
    const seen = await ours();
    expect(seen.domains.map((d) => d.state)).to.deep.equal(['running', 'running', 'running']);
    expect(seen.networks).to.deep.equal([`brine-${site}-j1`]);
    expect(await macsOf()).to.deep.equal(macs);
    for (const d of seen.domains) expect((await probe.lookupDomain(d.name))?.persistent).to.equal(true);

    // Idempotent: a retried restore leaves the running VMs alone.
    const uuids = (await probe.listDomains()).filter((d) => d.name.startsWith(`brine-j1-`)).map((d) => d.uuid).sort();
    expect(await snaps.restore(spec('j1'), 'j1-s1')).to.deep.equal(status);
    expect((await probe.listDomains()).filter((d) => d.name.startsWith(`brine-j1-`)).map((d) => d.uuid).sort()).to.deep.equal(uuids);
    // The restored cluster is an ordinary one: it can be checkpointed and destroyed.
    await snaps.take({ jobId: 'j1', snapshotId: 'j1-s2', kind: 'checkpoint' });
    await manager.destroy('j1');
    expect(await ours()).to.deep.equal({ domains: [], networks: [] });
  });

  it('restores with new MACs (another lease): the saved image is rewritten, the domains have the new MACs', async () => {
    await open();
    await manager.deploy(spec('j1'));
    await snaps.take({ jobId: 'j1', snapshotId: 'j1-s1', kind: 'suspend' });
    const moved = spec('j1', 3, 5);
    const status = await snaps.restore(moved, 'j1-s1');
    expect(status.vms.map((v) => v.state)).to.deep.equal(['RUNNING', 'RUNNING', 'RUNNING']);
    expect(await macsOf()).to.deep.equal(moved.vms.map((v) => v.mac));
    const xml = await probe.domainXml(`brine-j1-vm-0`, { inactive: true });
    expect(xml).to.include(`ip="${moved.vms[0]?.ip}"`);
    expect(await probe.networkXml(`brine-${site}-j1`)).to.include(`<ip address='10.198.5.1'`);
  });

  it('restores at another site sharing the libvirt (the VMs keep their names, the site changes), and back', async () => {
    await open();
    await manager.deploy(spec('j1'));
    // Site B on the same libvirt, with its own data dir; the snapshot's chunks reach it through the
    // same store (the transfer between sites is not what this test is about).
    const siteB = `${site}b`;
    const dataDirB = join(dataDir, 'site-b');
    const managerB = await ClusterManager.open({ site: siteB, dataDir: dataDirB, nodes: NODES, images: IMAGES, pollIntervalMs: 50, connect: openLibvirt });
    opened.push(managerB);
    const snapsB = new ClusterSnapshots({ clusters: managerB, store, dataDir: dataDirB, site: { nodes: NODES, images: IMAGES }, connect: openLibvirt });
    // B has seen A's domains (same names it is about to use) and knows they are not its own.
    expect(await managerB.status()).to.deep.equal([]);
    // While the job still runs at A, B never takes over (or redefines) A's domains of the same names.
    await snaps.take({ jobId: 'j1', snapshotId: 'j1-c0', kind: 'checkpoint' });
    const moved = spec('j1', 3, 6);
    expect(await rejects(snapsB.restore(moved, 'j1-c0'))).to.have.property('code', 'ALREADY_EXISTS');
    expect((await ours()).domains.map((d) => d.state)).to.deep.equal(['running', 'running', 'running']);
    expect(parseVmMetadata(await probe.domainXml('brine-j1-vm-0', { inactive: true }))).to.deep.include({ site });
    expect(await managerB.status()).to.deep.equal([]);

    await snaps.take({ jobId: 'j1', snapshotId: 'j1-s1', kind: 'suspend' });
    const status = await snapsB.restore(moved, 'j1-s1');
    expect(status.network).to.equal(`brine-${siteB}-j1`);
    expect(status.vms.map((v) => [v.name, v.domain, v.state])).to.deep.equal([
      ['vm-0', 'brine-j1-vm-0', 'RUNNING'],
      ['vm-1', 'brine-j1-vm-1', 'RUNNING'],
      ['vm-2', 'brine-j1-vm-2', 'RUNNING'],
    ]);
    expect(status.vms[0]?.console).to.equal(join(dataDirB, 'consoles', 'brine-j1-vm-0.log'));
    for (const vm of moved.vms) {
      const xml = await probe.domainXml(`brine-j1-${vm.name}`, { inactive: true });
      expect(parseVmMetadata(xml)).to.deep.include({ site: siteB, job: 'j1', vm: vm.name, mac: vm.mac, ip: vm.ip });
      expect(xml).to.include(`<source network='brine-${siteB}-j1'/>`);
    }
    expect(await managerB.status()).to.deep.equal([status]);
    // Site A holds nothing of it, and does not take B's domains for its own.
    expect(await ours()).to.deep.equal({ domains: [], networks: [] });
    expect(await manager.status()).to.deep.equal([]);

    // And back to A (on A's first addresses), by the same names.
    await snapsB.take({ jobId: 'j1', snapshotId: 'j1-s2', kind: 'suspend' });
    expect(await managerB.status()).to.deep.equal([]);
    const back = await snaps.restore(spec('j1'), 'j1-s2');
    expect(back.vms.map((v) => [v.domain, v.state])).to.deep.equal([
      ['brine-j1-vm-0', 'RUNNING'],
      ['brine-j1-vm-1', 'RUNNING'],
      ['brine-j1-vm-2', 'RUNNING'],
    ]);
    expect(await macsOf()).to.deep.equal(spec('j1').vms.map((v) => v.mac));
    expect(await manager.status()).to.deep.equal([back]);
    expect(await managerB.status()).to.deep.equal([]);
  });

  it('refuses to restore from a snapshot with a flipped byte in a chunk: typed error naming it, nothing left running', async () => {
    await open();
    await manager.deploy(spec('j1'));
    await snaps.take({ jobId: 'j1', snapshotId: 'j1-s1', kind: 'suspend' });
    const m = await store.manifest('j1-s1');
    const file = m.files.find((f) => f.name === 'vm-1/memory');
    const chunk = file?.chunks[0]?.hash ?? '';
    // Flip one byte of the chunk's content and store it back well-formed (compressed, in its
    // pack): only the hash can tell.
    const plain = decodeChunkSync(readStored(storeDir(dataDir), chunk));
    plain[plain.length >> 1] = (plain[plain.length >> 1] as number) ^ 0x01;
    replaceChunkContent(storeDir(dataDir), chunk, plain);

    const err = await rejects(snaps.restore(spec('j1'), 'j1-s1'));
    expect(err).to.be.instanceOf(SnapshotDamagedError);
    const damaged = err as SnapshotDamagedError;
    expect(damaged.code).to.equal('DATA_LOSS');
    expect(damaged).to.include({ snapshotId: 'j1-s1', file: 'vm-1/memory', chunk, problem: 'corrupt' });
    expect(damaged.message).to.include(chunk).and.include('vm-1/memory').and.include('j1-s1');
    expect(await ours()).to.deep.equal({ domains: [], networks: [] });
    expect(readdirSync(join(dataDir, 'work'))).to.deep.equal([]);

    // A missing chunk (its pack lost): the same, as `missing`.
    removePackOf(storeDir(dataDir), chunk);
    const missing = await rejects(snaps.restore(spec('j1'), 'j1-s1'));
    expect(missing).to.be.instanceOf(SnapshotDamagedError).with.property('problem', 'missing');
    expect(await ours()).to.deep.equal({ domains: [], networks: [] });
  });

  it('a store that fails (ENOSPC) during a checkpoint: VMs running again, no manifest, earlier snapshots intact', async () => {
    let full = false;
    const storeFs: StoreFs = {
      ...nodeFs,
      writeNew: async (path, data) => {
        if (full) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
        return nodeFs.writeNew(path, data);
      },
      createAppend: async (path) => {
        const f = await nodeFs.createAppend(path);
        return {
          append: async (parts) => {
            if (full) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
            return f.append(parts);
          },
          datasync: () => f.datasync(),
          close: () => f.close(),
        };
      },
    };
    await open({ storeFs });
    await manager.deploy(spec('j1'));
    await snaps.take({ jobId: 'j1', snapshotId: 'j1-s1', kind: 'checkpoint' });
    // Make the next snapshot's chunks new (the test driver's image is the XML: same as before).
    await probe.domainXml(`brine-j1-vm-0`);
    full = true;
    for (const [id, kind] of [['j1-s2', 'checkpoint'], ['j1-s3', 'suspend']] as const) {
      // A new chunk must be written for the failure to show: give the console (in the snapshot) new bytes.
      mkdirSync(join(dataDir, 'consoles'), { recursive: true });
      writeFileSync(join(dataDir, 'consoles', `brine-j1-vm-0.log`), `tick ${id} ${Math.random()}\n`);
      const err = await rejects(snaps.take({ jobId: 'j1', snapshotId: id, kind }));
      expect(err, `${kind}`).to.be.instanceOf(SnapshotFailedError);
      expect((err as SnapshotFailedError).code).to.equal('RESOURCE_EXHAUSTED');
      expect(err.message).to.match(/no snapshot was stored, the VMs run again/);
      expect((await ours()).domains.map((d) => d.state), `${kind}`).to.deep.equal(['running', 'running', 'running']);
      expect((await store.list('j1')).map((s) => s.id)).to.deep.equal(['j1-s1']);
    }
    expect((await store.verify('j1-s1')).ok).to.equal(true);
    expect(readdirSync(join(dataDir, 'work'))).to.deep.equal([]);
    full = false;
    await snaps.take({ jobId: 'j1', snapshotId: 'j1-s4', kind: 'checkpoint' });
  });

  it('a failing save or pause of one VM: the others run again, no manifest, a typed error', async () => {
    await open();
    await manager.deploy(spec('j1'));
    const vm1 = `brine-j1-vm-1`;
    inject.saveDomain = (name) => (name === vm1 ? new Error('injected: save failed') : null);
    const err = await rejects(snaps.take({ jobId: 'j1', snapshotId: 'j1-s1', kind: 'checkpoint' }));
    expect(err).to.be.instanceOf(SnapshotFailedError).with.property('code', 'INTERNAL');
    expect(err.message).to.include('injected: save failed');
    expect((await ours()).domains.map((d) => d.state)).to.deep.equal(['running', 'running', 'running']);
    expect((await store.list('j1')).length).to.equal(0);

    inject = { suspendDomain: (name) => (name === vm1 ? new Error('injected: pause failed') : null) };
    const err2 = await rejects(snaps.take({ jobId: 'j1', snapshotId: 'j1-s1', kind: 'suspend' }));
    expect(err2).to.be.instanceOf(SnapshotFailedError);
    expect((await ours()).domains.map((d) => d.state)).to.deep.equal(['running', 'running', 'running']);
    expect((await store.list('j1')).length).to.equal(0);

    // The restore of a checkpoint fails too (after the save): the VM is restored by the undo.
    inject = { restoreDomain: (() => { let n = 0; return () => (++n === 1 ? new Error('injected: restore failed') : null); })() };
    const err3 = await rejects(snaps.take({ jobId: 'j1', snapshotId: 'j1-s1', kind: 'checkpoint' }));
    expect(err3).to.be.instanceOf(SnapshotFailedError);
    expect((await ours()).domains.map((d) => d.state)).to.deep.equal(['running', 'running', 'running']);
    inject = {};
    await snaps.take({ jobId: 'j1', snapshotId: 'j1-s1', kind: 'checkpoint' });
  });

  it('recovers at start-up from a capture cut short: paused VMs resumed, saved VMs restored, work files removed', async () => {
    await open();
    await manager.deploy(spec('j1'));
    const d = (vm: string): string => `brine-j1-${vm}`;
    // What a killed agent leaves: vm-0 paused, vm-1 saved (stopped, image in the work dir), vm-2
    // untouched, an intent file, and a restore's staging directory.
    const work = join(dataDir, 'work', 'j1-s9');
    mkdirSync(work, { recursive: true });
    await probe.suspendDomain(d('vm-0'));
    await probe.suspendDomain(d('vm-1'));
    await probe.saveDomain(d('vm-1'), join(work, 'vm-1.mem'));
    writeFileSync(
      join(work, 'intent.json'),
      JSON.stringify({
        snapshotId: 'j1-s9',
        job: 'j1',
        kind: 'checkpoint',
        vms: ['vm-0', 'vm-1', 'vm-2'].map((vm) => ({ name: vm, domain: d(vm), uri: URI, memFile: join(work, `${vm}.mem`) })),
      }),
    );
    mkdirSync(join(dataDir, 'work', 'restore-j1-s1'), { recursive: true });
    writeFileSync(join(dataDir, 'work', 'restore-j1-s1', 'vm-0.mem'), 'partial');
    expect((await ours()).domains.map((x) => x.state)).to.deep.equal(['paused', 'shutoff', 'running']);

    const reports = await snaps.recover();
    expect(reports).to.deep.equal([
      { snapshotId: 'j1-s9', job: 'j1', kind: 'checkpoint', committed: false, resumed: ['vm-0'], restored: ['vm-1'], removedCluster: false, problems: [] },
    ]);
    expect((await ours()).domains.map((x) => x.state)).to.deep.equal(['running', 'running', 'running']);
    expect(readdirSync(join(dataDir, 'work'))).to.deep.equal([]);
    expect(await snaps.recover()).to.deep.equal([]);
  });

  it('recovers a suspend cut short after its commit: the paused cluster is removed as asked', async () => {
    await open();
    await manager.deploy(spec('j1'));
    // A suspend whose removal failed after the commit: the VMs stay paused, the error says retry.
    let failDestroy = true;
    const realDestroy = manager.destroyHeld.bind(manager);
    manager.destroyHeld = async (job, reason) => {
      if (failDestroy) throw new Error('injected: destroy failed');
      return realDestroy(job, reason);
    };
    const err = await rejects(snaps.take({ jobId: 'j1', snapshotId: 'j1-s1', kind: 'suspend' }));
    expect(err.message).to.match(/is stored, but removing the suspended cluster failed/);
    expect((await ours()).domains.map((x) => x.state)).to.deep.equal(['shutoff', 'shutoff', 'shutoff']);
    // Killed there: the next agent finds the intent (re-created here, as the failing call removed it).
    const work = join(dataDir, 'work', 'j1-s1');
    mkdirSync(work, { recursive: true });
    writeFileSync(join(work, 'intent.json'), JSON.stringify({ snapshotId: 'j1-s1', job: 'j1', kind: 'suspend', vms: [] }));
    failDestroy = false;
    const [report] = await snaps.recover();
    expect(report).to.include({ committed: true, removedCluster: true });
    expect(await ours()).to.deep.equal({ domains: [], networks: [] });
  });

  it('prunes: keeps the last `keep` snapshots of the job, collects what nothing uses', async () => {
    await open();
    await manager.deploy(spec('j1'));
    await manager.deploy(spec('j2', 1, 1));
    for (const id of ['a1', 'a2', 'a3']) await snaps.take({ jobId: 'j1', snapshotId: id, kind: 'checkpoint' });
    await snaps.take({ jobId: 'j2', snapshotId: 'b1', kind: 'checkpoint' });
    expect(await snaps.prune('j1', 1)).to.deep.equal(['a1', 'a2']);
    expect((await store.list()).map((s) => s.id).sort()).to.deep.equal(['a3', 'b1']);
    expect(await snaps.prune('j1', 1)).to.deep.equal([]);
    expect((await store.verify('a3')).ok).to.equal(true);
    expect(await rejects(snaps.prune('j1', -1))).to.have.property('code', 'INVALID_ARGUMENT');
  });

  it('prune keep 0 (the job ended) also abandons snapshots of it still arriving from another site', async () => {
    await open();
    await manager.deploy(spec('j1'));
    await manager.deploy(spec('j2', 1, 1));
    await snaps.take({ jobId: 'j1', snapshotId: 'a1', kind: 'checkpoint' });
    await snaps.take({ jobId: 'j2', snapshotId: 'b1', kind: 'checkpoint' });
    // two transfers in, cut short: a snapshot of j1 and one of j2, as another site's store would send them
    const m1 = { ...(await store.manifest('a1')), id: 'a9' };
    const m2 = { ...(await store.manifest('b1')), id: 'b9' };
    await store.beginImport(m1);
    await store.beginImport(m2);
    expect((await store.pendingImports()).sort()).to.deep.equal(['a9', 'b9']);
    expect((await snaps.prune('j1', 0)).sort()).to.deep.equal(['a1', 'a9']);
    expect(await store.pendingImports()).to.deep.equal(['b9']); // another job's transfer is untouched
    expect((await store.list()).map((s) => s.id)).to.deep.equal(['b1']);
  });
});
