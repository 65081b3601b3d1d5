// The agent's reclaim without the coordinator (site-agent/local-reclaim.ts), over fakes of the
// cluster manager, the snapshot path and the store (the integration test runs the real ones).
import { expect } from 'chai';
import { LocalReclaims, type LocalReclaimOptions, type StateFile } from '../../site-agent/local-reclaim.js';
import { BrineError, NotFoundError } from '../../src/shared/errors.js';
import { silentLogger } from '../../src/shared/logger.js';
import type { ClusterStatus, Snapshot } from '../../src/shared/proto.js';
import type { SnapshotManifest } from '../../site-agent/snapshot-store/index.js';

/** A state file in memory; `writes` counts durable writes. */
class MemoryFile implements StateFile {
  value: unknown;
  writes = 0;
  constructor(value?: unknown) {
    this.value = value;
  }
  async read(): Promise<unknown> {
    return structuredClone(this.value);
  }
  async write(state: unknown): Promise<void> {
    this.writes++;
    this.value = structuredClone(state);
  }
}

/** Fake site: clusters by job; a suspend removes the cluster and commits a manifest. */
class FakeSite {
  clusters = new Map<string, ClusterStatus>();
  /** snapshot id → job, once its manifest is committed */
  manifests = new Map<string, string>();
  takes: string[] = [];
  /** set to hold suspends until released */
  gate: Promise<void> | null = null;
  fail: string | null = null;

  add(job: string, nodes: string[]): void {
    this.clusters.set(job, { jobId: job, network: `net-${job}`, networkXml: '', vms: nodes.map((n, i) => ({ name: `${job}-${i}`, node: n, domain: `d-${job}-${i}`, state: 'RUNNING', console: '' })) });
  }

  options(file: StateFile, extra: Partial<LocalReclaimOptions> = {}): LocalReclaimOptions {
    let n = 0;
    return {
      site: 'site-a',
      nodes: ['a1', 'a2', 'a3'],
      clusters: { status: async () => [...this.clusters.values()] },
      snapshots: {
        take: async (input) => {
          this.takes.push(`${input.jobId}:${input.kind}`);
          if (this.gate) await this.gate;
          if (this.fail) throw new BrineError('UNAVAILABLE', this.fail);
          this.clusters.delete(input.jobId);
          this.manifests.set(input.snapshotId, input.jobId);
          return this.snapshot(input.snapshotId, input.jobId);
        },
        toSnapshot: (m: SnapshotManifest) => this.snapshot(m.id, m.job),
      },
      store: {
        manifest: async (id: string) => {
          const job = this.manifests.get(id);
          if (job === undefined) throw new NotFoundError('snapshot', id);
          return { id, job } as unknown as SnapshotManifest; // only id and job are read (toSnapshot is the fake's)
        },
      },
      file,
      logger: silentLogger,
      newSnapshotId: () => `l${++n}`,
      ...extra,
    };
  }

  snapshot(id: string, job: string): Snapshot {
    return { id, job, createdAt: '', sites: ['site-a'], vms: [], totalBytes: 10, newBytes: 10, pauseSkewMs: 0, downtimeMs: 1, damaged: false, kind: 'suspend', damagedSites: [] };
  }
}

describe('LocalReclaims (the agent reclaims when the coordinator is unreachable)', () => {
  it('closes the nodes first, suspends each cluster with a VM there once, and answers which nodes are free', async () => {
    const site = new FakeSite();
    site.add('j1', ['a1', 'a2']);
    site.add('j2', ['a3']);
    const file = new MemoryFile();
    const local = await LocalReclaims.open(site.options(file));
    const res = await local.reclaim(['a1'], '', false);
    expect(res.preempted).to.have.length(1);
    expect(res.preempted[0]).to.deep.include({ job: 'j1', saved: true });
    expect(res.freeNodes).to.deep.equal(['a1']);
    expect(res.closedNodes).to.deep.equal(['a1']);
    expect(site.takes).to.deep.equal(['j1:suspend']);
    expect(site.clusters.has('j2')).to.equal(true);
    expect(() => local.checkOpen(['a2', 'a1'], 'cluster.vms')).to.throw(BrineError, /cluster\.vms: node a1 of site-a reclaimed by the site's batch scheduler/);
    expect(() => local.checkOpen(['a2'], 'cluster.vms')).to.not.throw();
    const report = await local.report();
    expect(report?.closedNodes).to.deep.equal(['a1']);
    expect(report?.suspended.map((s) => [s.job, s.snapshot?.id, s.nodes])).to.deep.equal([['j1', res.preempted[0]?.snapshot, ['a1']]]);
    expect(report?.revision).to.equal((file.value as { revision: number }).revision);
  });

  it('a cluster whose guests shut down by themselves has nothing to save: its node counts as free', async () => {
    const site = new FakeSite();
    site.add('j1', ['a1']);
    site.clusters.get('j1')?.vms.forEach((v) => (v.state = 'SHUTOFF'));
    const local = await LocalReclaims.open(site.options(new MemoryFile()));
    const res = await local.reclaim(['a1'], '', false);
    expect(res).to.deep.include({ preempted: [], freeNodes: ['a1'], closedNodes: ['a1'] });
    expect(site.takes).to.deep.equal([]);
  });

  it('two reclaims at once hitting one cluster suspend it once', async () => {
    const site = new FakeSite();
    site.add('j1', ['a1', 'a2']);
    let open!: () => void;
    site.gate = new Promise((r) => (open = r));
    const local = await LocalReclaims.open(site.options(new MemoryFile()));
    const both = Promise.all([local.reclaim(['a1'], '', false), local.reclaim(['a2'], '', false)]);
    await new Promise((r) => setTimeout(r, 10));
    open();
    const [x, y] = await both;
    expect(site.takes).to.deep.equal(['j1:suspend']);
    expect(x.preempted[0]?.snapshot).to.equal(y.preempted[0]?.snapshot);
    expect(x.closedNodes).to.deep.equal(['a1', 'a2']);
  });

  it('a cluster being suspended shows in heartbeats as it was, paused, until the report has it', async () => {
    const site = new FakeSite();
    site.add('j1', ['a1']);
    let open!: () => void;
    site.gate = new Promise((r) => (open = r));
    const local = await LocalReclaims.open(site.options(new MemoryFile()));
    const running = local.reclaim(['a1'], '', false);
    await new Promise((r) => setTimeout(r, 10));
    site.clusters.get('j1')?.vms.forEach((v) => (v.state = 'SHUTOFF')); // what libvirt shows mid-save
    expect(local.overlay([...site.clusters.values()]).map((c) => c.vms.map((v) => v.state))).to.deep.equal([['PAUSED']]);
    expect(local.overlay([]).map((c) => c.jobId)).to.deep.equal(['j1']);
    expect((await local.report())?.suspended ?? []).to.deep.equal([]);
    open();
    await running;
    expect(local.overlay([])).to.deep.equal([]);
    expect((await local.report())?.suspended.map((s) => s.job)).to.deep.equal(['j1']);
  });

  it('past the grace period: not saved (exit 1 at the CLI); the suspend goes on and is reported once done', async () => {
    const site = new FakeSite();
    site.add('j1', ['a1']);
    let open!: () => void;
    site.gate = new Promise((r) => (open = r));
    const local = await LocalReclaims.open(site.options(new MemoryFile(), { sleep: async () => undefined }));
    const res = await local.reclaim(['a1'], '1s', false);
    expect(res.preempted).to.deep.equal([{ job: 'j1', snapshot: '', saved: false, nodes: ['a1'], reason: res.preempted[0]?.reason }]);
    expect(res.preempted[0]?.reason).to.include('not saved within the grace period (1s)');
    expect(res.freeNodes).to.deep.equal([]);
    open();
    await new Promise((r) => setTimeout(r, 10));
    expect((await local.report())?.suspended.map((s) => s.job)).to.deep.equal(['j1']);
  });

  it('a failed snapshot: not saved, the cluster runs on, nothing reported for it', async () => {
    const site = new FakeSite();
    site.add('j1', ['a1']);
    site.fail = 'libvirtd unreachable';
    const local = await LocalReclaims.open(site.options(new MemoryFile()));
    const res = await local.reclaim(['a1'], '', false);
    expect(res.preempted[0]).to.deep.include({ job: 'j1', saved: false });
    expect(res.preempted[0]?.reason).to.include('libvirtd unreachable');
    expect((await local.report())?.suspended).to.deep.equal([]);
  });

  it('unknown nodes: refused naming them, or with ignoreUnknown listed and left alone', async () => {
    const site = new FakeSite();
    const local = await LocalReclaims.open(site.options(new MemoryFile()));
    try {
      await local.reclaim(['a1', 'zz'], '', false);
      expect.fail('accepted an unknown node');
    } catch (err) {
      expect(err).to.be.instanceOf(BrineError).with.property('field', 'nodes');
      expect((err as Error).message).to.include('unknown node zz');
    }
    expect(local.closedNodes()).to.deep.equal([]);
    const res = await local.reclaim(['zz', 'a2'], '', true);
    expect(res).to.deep.include({ ignoredNodes: ['zz'], closedNodes: ['a2'], freeNodes: ['a2'] });
    try {
      await local.reclaim(['a1'], 'soon', false);
      expect.fail('accepted a bad grace');
    } catch (err) {
      expect(err).to.be.instanceOf(BrineError).with.property('field', 'grace');
    }
  });

  it('release opens the nodes and is reported; the acknowledged revision is forgotten, a later change is not', async () => {
    const site = new FakeSite();
    const file = new MemoryFile();
    const local = await LocalReclaims.open(site.options(file));
    await local.reclaim(['a1', 'a2'], '', false);
    await local.release(['a2'], false);
    const r1 = await local.report();
    expect(r1).to.deep.include({ closedNodes: ['a1'], releasedNodes: ['a2'] });
    await local.reclaim(['a3'], '', false); // after the report was built: not covered by its ack
    await local.acknowledge(r1?.revision ?? 0);
    expect((await local.report())?.closedNodes).to.deep.equal(['a1', 'a3']);
    const r2 = await local.report();
    await local.acknowledge(r2?.revision ?? 0);
    expect(await local.report()).to.equal(null);
    expect(local.closedNodes()).to.deep.equal([]);
    const writes = file.writes;
    await local.acknowledge(r2?.revision ?? 0);
    expect(file.writes, 'nothing to forget: no write').to.equal(writes);
  });

  it('a restart keeps the closed nodes and the suspensions; one cut short is kept if its snapshot is durable, dropped if not', async () => {
    const site = new FakeSite();
    site.manifests.set('l7', 'j7');
    const file = new MemoryFile({
      version: 1,
      revision: 3,
      closedNodes: ['a1'],
      releasedNodes: [],
      suspensions: [
        { job: 'j7', snapshotId: 'l7', nodes: ['a1'], at: 't', state: 'taking' },
        { job: 'j8', snapshotId: 'l8', nodes: ['a1'], at: 't', state: 'taking' },
      ],
    });
    const local = await LocalReclaims.open(site.options(file));
    expect(local.closedNodes()).to.deep.equal(['a1']);
    const report = await local.report();
    expect(report?.suspended.map((s) => s.job)).to.deep.equal(['j7']);
    expect((file.value as { suspensions: Array<{ state: string }> }).suspensions.map((s) => s.state)).to.deep.equal(['taken']);
  });

  it('a state file that does not validate stops the agent, saying not to delete it', async () => {
    const site = new FakeSite();
    try {
      await LocalReclaims.open(site.options(new MemoryFile({ version: 1, revision: 'x' })));
      expect.fail('opened a bad state');
    } catch (err) {
      expect((err as Error).message).to.include('revision').and.include('do not delete it');
    }
  });
});
