import { expect } from 'chai';
import * as grpc from '@grpc/grpc-js';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decideIdentity } from '../../src/coordinator/identity.js';
import { StateFileError } from '../../src/coordinator/journal.js';
import { GridMembership } from '../../site-agent/grid-membership.js';
import { Registrar, type ClusterSource, type Registry } from '../../site-agent/registration.js';
import { EPOCH_KEY, GRID_ID_KEY } from '../../src/shared/grid.js';
import type { Logger } from '../../src/shared/logger.js';
import type { ClusterStatus } from '../../src/shared/proto.js';

const silent: Logger = (() => {
  const l = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined, child: () => l };
  return l as unknown as Logger;
})();

describe('grid identity (coordinator side, pure)', () => {
  const ids = () => 'new-id';
  const base = { dataDir: '/d', init: false };
  it('a fresh data dir begins a grid at epoch 1', () => {
    expect(decideIdentity({ ...base, hadState: false, meta: undefined, marker: undefined }, ids)).to.deep.equal({ gridId: 'new-id', epoch: 1, created: true });
  });
  it('a state carries on with its grid at the next epoch', () => {
    expect(decideIdentity({ ...base, hadState: true, meta: { gridId: 'g', epoch: 4 }, marker: 'g' }, ids)).to.deep.equal({ gridId: 'g', epoch: 5, created: false });
  });
  it('a data dir whose state is gone is refused unless --init, which begins a new grid', () => {
    expect(() => decideIdentity({ ...base, hadState: false, meta: undefined, marker: 'g' }, ids)).to.throw(StateFileError, /held the state of grid g.*--init/);
    expect(decideIdentity({ ...base, init: true, hadState: false, meta: undefined, marker: 'g' }, ids).gridId).to.equal('new-id');
  });
  it('--init over a state, or a marker of another grid, is refused', () => {
    expect(() => decideIdentity({ ...base, init: true, hadState: true, meta: { gridId: 'g', epoch: 1 }, marker: 'g' }, ids)).to.throw(StateFileError, /--init begins a new grid only/);
    expect(() => decideIdentity({ ...base, hadState: true, meta: { gridId: 'g', epoch: 1 }, marker: 'h' }, ids)).to.throw(StateFileError, /names grid h but the state is grid g/);
  });
});

describe('grid membership (agent side)', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'brine-grid-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('joins the first grid, remembers it and the highest epoch, refuses another grid and older epochs', async () => {
    const m = await GridMembership.load(dir);
    expect(m.refusal('g', 1)).to.equal(null);
    await m.accept('g', 2);
    const again = await GridMembership.load(dir);
    expect([again.gridId, again.epoch]).to.deep.equal(['g', 2]);
    expect(again.refusal('h', 9)).to.match(/belongs to grid g, not h/);
    expect(again.refusal('g', 1)).to.match(/epoch 1 is older than 2/);
    expect(again.refusal('g', 3)).to.equal(null);
    const md = (grid: string, epoch: string): grpc.Metadata => {
      const x = new grpc.Metadata();
      if (grid) x.set(GRID_ID_KEY, grid);
      x.set(EPOCH_KEY, epoch);
      return x;
    };
    expect(() => again.checkCall(md('g', '2'), 'DestroyCluster')).to.not.throw();
    expect(() => again.checkCall(md('h', '2'), 'DestroyCluster')).to.throw(/DestroyCluster: this agent belongs to grid g/);
    expect(() => again.checkCall(md('', '2'), 'DestroyCluster')).to.throw(/names no grid/);
  });

  it('a grid file that does not parse stops the agent instead of letting any grid claim it', async () => {
    writeFileSync(join(dir, 'grid.json'), 'null');
    const err = await GridMembership.load(dir).then(() => null, (e: unknown) => e);
    expect((err as Error).message).to.include(join(dir, 'grid.json'));
  });
});

describe('registrar and the grid (fake registry)', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'brine-grid-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function harness(answer: { gridId: string; epoch: number; unknownJobs?: string[] }) {
    const fenced: string[][] = [];
    const running: ClusterStatus[] = ['j1', 'j2', 'j3'].map((jobId) => ({ jobId, network: 'n', networkXml: '', vms: [] }));
    const clusters: ClusterSource = {
      status: async () => running,
      fenceMark: () => 0,
      fence: async (placed) => {
        const keep = new Set(placed);
        fenced.push(running.map((c) => c.jobId).filter((j) => !keep.has(j)));
        return [];
      },
    };
    const registry: Registry = {
      register: async () => ({ session: 's', heartbeatIntervalMs: 100, localReclaimAcked: 0, gridId: answer.gridId, epoch: answer.epoch }),
      heartbeat: async () => ({ placedJobs: ['j1'], localReclaimAcked: 0, gridId: answer.gridId, epoch: answer.epoch, unknownJobs: answer.unknownJobs ?? [] }),
      reportStatus: async () => undefined,
      close: () => undefined,
    };
    return { fenced, clusters, registry };
  }
  const describeSite = { site: 'site-a', advertise: 'x:1', nodes: [], images: [], subnetPool: '10.0.0.0/24', macRange: '02:00:00:00:00:00/40', defaultCheckpointEvery: '30m', snapshotsKeep: 3 };

  it('fences only what its grid knows and no longer places here; keeps and reports unknown jobs', async () => {
    const membership = await GridMembership.load(dir);
    const h = harness({ gridId: 'g', epoch: 1, unknownJobs: ['j3'] });
    const r = new Registrar({ describe: describeSite, instance: 'i', clusters: h.clusters, registry: h.registry, coordinator: 'c', logger: silent, onFatal: () => undefined, membership });
    r.start();
    await r.registered();
    await new Promise((res) => setTimeout(res, 350));
    await r.stop();
    expect(h.fenced.length).to.be.greaterThan(0);
    for (const f of h.fenced) expect(f).to.deep.equal(['j2']);
    expect(membership.keptJobs).to.deep.equal(['j3']);
    expect(JSON.parse(readFileSync(join(dir, 'grid.json'), 'utf8'))).to.deep.equal({ gridId: 'g', epoch: 1 });
  });

  it("refuses a coordinator of another grid: no session, nothing fenced", async () => {
    const membership = await GridMembership.load(dir);
    await membership.accept('g', 3);
    const h = harness({ gridId: 'other', epoch: 1 });
    let fatal = '';
    const r = new Registrar({ describe: describeSite, instance: 'i', clusters: h.clusters, registry: h.registry, coordinator: 'c', logger: silent, onFatal: (m) => (fatal = m), membership, backoff: { initialMs: 10, maxMs: 20 } });
    r.start();
    await new Promise((res) => setTimeout(res, 300));
    expect(r.currentSession).to.equal(null);
    await r.stop();
    expect(h.fenced).to.deep.equal([]);
    expect(fatal).to.equal('');
  });
});
