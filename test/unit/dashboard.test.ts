// The dashboard's pure parts: transfers in progress from the event stream, the page's state from
// the coordinator's reads, and the loopback-only rule of `dashboard.listen`.
import { expect } from 'chai';
import { dashboardConfigSchema, isLoopback } from '../../src/coordinator/dashboard/server.js';
import { STALE_MS, TransferTracker } from '../../src/coordinator/dashboard/transfers.js';
import { dashboardState, ENDED_SHOWN } from '../../src/coordinator/dashboard/view.js';
import type { JobRecord } from '../../src/coordinator/store.js';
import type { BrineEvent, Site, Snapshot } from '../../src/shared/proto.js';

const T0 = Date.parse('2026-12-02T10:00:00.000Z');
const progress = (snapshot: string, site: string, bytesDone: number, bytesTotal: number, etaMs: number, atMs = T0): BrineEvent =>
  ({ type: 'transfer.progress', at: new Date(atMs).toISOString(), job: 'j1', site, snapshot, bytesDone, bytesTotal, rateBps: 100, etaMs, reason: `move ${snapshot}`, state: 'JOB_STATE_UNSPECIFIED', vm: '', vmState: '' }) as BrineEvent;

describe('dashboard', () => {
  it('keeps the latest progress of each transfer until it is done or silent too long', () => {
    const t = new TransferTracker();
    t.handle(progress('s1', 'site-b', 10, 100, 900));
    t.handle(progress('s1', 'site-b', 50, 100, 500));
    t.handle(progress('s2', 'site-c', 0, 10, -1, T0 - STALE_MS - 1));
    t.handle({ ...progress('s9', 'site-b', 1, 2, 1), type: 'job.state' });
    expect(t.list(T0).map((x) => [x.snapshot, x.bytesDone])).to.deep.equal([['s1', 50]]);
    t.handle(progress('s1', 'site-b', 100, 100, 0));
    expect(t.list(T0)).to.deep.equal([]);
  });

  it('shows live jobs with their move and snapshots, and only the latest ended ones', () => {
    const jobs: JobRecord[] = [];
    const h = (s: number, state: string) => ({ at: new Date(T0 + s * 1000).toISOString(), state, reason: state.toLowerCase() });
    for (let i = 0; i < ENDED_SHOWN + 5; i++) jobs.push({ id: `e${i}`, state: 'COMPLETED', site: 'site-a', vms: [], history: [h(i, 'COMPLETED')] } as unknown as JobRecord);
    jobs.push({
      id: 'j1',
      name: 'moving',
      state: 'RELOCATING',
      site: 'site-a',
      vms: [{ name: 'vm0', node: 'a1', ip: '10.0.0.2', state: 'RUNNING', mac: '' }],
      history: [h(0, 'PENDING'), h(1, 'RUNNING'), h(5, 'RELOCATING')],
      pendingOp: { kind: 'move', snapshotId: 's2', reason: 'user', move: { from: { site: 'site-a' }, to: { site: 'site-b' }, phase: 'transfer', wasRunning: true } },
    } as unknown as JobRecord);
    const snaps = [{ id: 's1', job: 'j1', kind: 'checkpoint', totalBytes: 10, newBytes: 4, downtimeMs: 3, pauseSkewMs: 1, sites: ['site-a'], createdAt: '' }] as unknown as Snapshot[];
    const sites = [{ name: 'site-a', state: 'UP', lastHeartbeat: new Date(T0 - 700).toISOString(), nodes: [{ name: 'a1', state: 'UP', cpus: 4, freeCpus: 3, memoryMiB: 100, freeMemoryMiB: 50 }] }] as unknown as Site[];
    const s = dashboardState({ jobs: () => jobs, sites: () => sites, snapshots: (id) => snaps.filter((x) => x.job === id) }, [], T0);
    expect(s.jobs[0]?.id).to.equal('j1');
    expect(s.jobs[0]?.move).to.deep.equal({ from: 'site-a', to: 'site-b', phase: 'transfer' });
    expect(s.jobs[0]?.snapshots.map((x) => x.totalBytes)).to.deep.equal([10]);
    expect(s.jobs).to.have.length(1 + ENDED_SHOWN);
    expect(s.jobs[1]?.id).to.equal(`e${ENDED_SHOWN + 4}`); // most recent ended first
    expect(s.sites[0]?.heartbeatAgeMs).to.equal(700);
    expect(s.sites[0]?.nodes[0]).to.deep.include({ freeCpus: 3, freeMemoryMiB: 50 });
  });

  it('binds only to loopback', () => {
    for (const a of ['127.0.0.1:7780', '127.1.2.3:80', 'localhost:9', '[::1]:7780']) expect(isLoopback(a), a).to.equal(true);
    for (const a of ['0.0.0.0:7780', '10.0.0.5:7780', '[::]:7780', 'example.org:80']) expect(isLoopback(a), a).to.equal(false);
    const r = dashboardConfigSchema.safeParse({ listen: '0.0.0.0:7780' });
    expect(r.success).to.equal(false);
    expect(r.error?.issues[0]?.message).to.match(/loopback/);
    expect(dashboardConfigSchema.safeParse({ listen: '127.0.0.1:7780', auth: 'none' }).success).to.equal(false);
  });
});
