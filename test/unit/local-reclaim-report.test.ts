// The coordinator taking over what a site's agent reclaimed by itself (issue 13): pure over its
// state, with the real state machine.
import { expect } from 'chai';
import { applyLocalReclaimReport, type LocalReclaimContext } from '../../src/coordinator/local-reclaim-report.js';
import { transition, type JobStateName } from '../../src/coordinator/job-state.js';
import type { HotData, JobRecord, SiteRecord } from '../../src/coordinator/store.js';
import { silentLogger } from '../../src/shared/logger.js';
import type { Snapshot } from '../../src/shared/proto.js';
import type { LocalReclaimReport__Output as LocalReclaimReport } from '../../src/gen/brine/v1/LocalReclaimReport.js';

const NOW = new Date('2026-12-02T10:00:00Z');

function site(name: string, reclaimed: string[] = []): SiteRecord {
  return {
    name,
    advertise: '127.0.0.1:1',
    nodes: ['a1', 'a2'].map((n) => ({ name: n, uri: 'test:///default', cpus: 4, memoryMiB: 4096, arch: '', domainType: '', domainTypes: [], cpuModel: '' })),
    images: ['tiny'],
    subnetPool: '10.0.0.0/24',
    macRange: '02:00:00:00:00:00/40',
    instance: 'i',
    defaultCheckpointEvery: '30m',
    reclaimedNodes: reclaimed,
    snapshotsKeep: 3,
  };
}

function job(id: string, state: JobStateName, siteName = 'site-a'): JobRecord {
  return {
    id,
    name: id,
    owner: 'u',
    state,
    site: siteName,
    subnet: '10.0.0.0/29',
    gateway: '10.0.0.1',
    vms: [{ name: `${id}-0`, node: 'a1', mac: '02:00:00:00:00:01', ip: '10.0.0.2', state: 'RUNNING', domain: '', console: '' }],
    checkpointEvery: '30m',
    lastSnapshot: '',
    createdAt: NOW.toISOString(),
    history: [{ at: NOW.toISOString(), state, reason: 'test' }],
    vmCount: 1,
    cpus: 4,
    memoryMiB: 64,
    image: 'tiny',
    pinnedSite: '',
    deployAttempts: 0,
  };
}

function snap(id: string, jobId: string): Snapshot {
  return { id, job: jobId, createdAt: NOW.toISOString(), sites: ['site-a'], vms: [{ name: `${jobId}-0`, bytes: 100 }], totalBytes: 100, newBytes: 50, pauseSkewMs: 0, downtimeMs: 3, damaged: false, kind: 'suspend', damagedSites: [] };
}

function context(jobs: JobRecord[], sites: SiteRecord[] = [site('site-a')]): LocalReclaimContext & { data: HotData } {
  const data: HotData = { version: 1, jobs: Object.fromEntries(jobs.map((j) => [j.id, j])), sites: Object.fromEntries(sites.map((s) => [s.name, s])), leases: [], snapshots: {} };
  return { data, setState: (j, to, reason) => transition(j, to, reason, NOW), log: silentLogger };
}

const report = (over: Partial<LocalReclaimReport> = {}): LocalReclaimReport => ({
  revision: 4,
  closedNodes: ['a1'],
  releasedNodes: [],
  suspended: [{ job: 'j1', snapshot: snap('l1', 'j1'), nodes: ['a1'], at: NOW.toISOString() }],
  ...over,
});

describe('the coordinator takes over a local reclaim (local-reclaim-report.ts)', () => {
  it('a RUNNING job becomes SUSPENDED on the agent\'s snapshot, with autoResume; the nodes are reclaimed; the snapshot is cataloged at the site', () => {
    const ctx = context([job('j1', 'RUNNING')]);
    const out = applyLocalReclaimReport(ctx, 'site-a', report());
    expect(out).to.deep.include({ recorded: true, changed: true, suspended: ['j1'], ignored: [] });
    const j = ctx.data.jobs.j1 as JobRecord;
    expect(j.state).to.equal('SUSPENDED');
    expect(j.lastSnapshot).to.equal('l1');
    expect(j.autoResume).to.include('reclaimed by its batch scheduler while the coordinator was unreachable');
    expect(j.vms.map((v) => v.state)).to.deep.equal(['SUSPENDED']);
    expect(j.history.map((h) => h.state)).to.deep.equal(['RUNNING', 'SUSPENDING', 'SUSPENDED']);
    expect(j.history.at(-1)?.reason).to.include("suspended by the site's agent").and.include('snapshot l1 complete on disk');
    expect(ctx.data.snapshots.l1).to.deep.include({ job: 'j1', sites: ['site-a'], kind: 'suspend', damaged: false, totalBytes: 100 });
    expect(ctx.data.sites['site-a']?.reclaimedNodes).to.deep.equal(['a1']);
  });

  it('the same report again changes nothing (an agent resends until acknowledged)', () => {
    const ctx = context([job('j1', 'RUNNING')]);
    applyLocalReclaimReport(ctx, 'site-a', report());
    const history = structuredClone(ctx.data.jobs.j1?.history);
    const again = applyLocalReclaimReport(ctx, 'site-a', report());
    expect(again).to.deep.include({ recorded: true, changed: false, suspended: [], ignored: [] });
    expect(ctx.data.jobs.j1?.history).to.deep.equal(history);
  });

  it('released nodes are no longer reclaimed; closed ones are; unknown nodes are ignored', () => {
    const ctx = context([], [site('site-a', ['a2'])]);
    const out = applyLocalReclaimReport(ctx, 'site-a', report({ closedNodes: ['a1', 'zz'], releasedNodes: ['a2'], suspended: [] }));
    expect(out.changed).to.equal(true);
    expect(ctx.data.sites['site-a']?.reclaimedNodes).to.deep.equal(['a1']);
  });

  it('a site not registered yet: not recorded (the agent reports again), nothing touched', () => {
    const ctx = context([job('j1', 'RUNNING')], []);
    const out = applyLocalReclaimReport(ctx, 'site-a', report());
    expect(out.recorded).to.equal(false);
    expect(ctx.data.jobs.j1?.state).to.equal('RUNNING');
  });

  it('a deploy or resume the coordinator lost track of: RUNNING first, then suspended', () => {
    for (const state of ['DEPLOYING', 'RESUMING'] as const) {
      const ctx = context([job('j1', state)]);
      applyLocalReclaimReport(ctx, 'site-a', report());
      expect(ctx.data.jobs.j1?.history.map((h) => h.state)).to.deep.equal([state, 'RUNNING', 'SUSPENDING', 'SUSPENDED']);
    }
  });

  it('an interrupted checkpoint or suspend of the coordinator is dropped (the agent has the final snapshot)', () => {
    const j = job('j1', 'SUSPENDING');
    j.pendingOp = { kind: 'suspend', snapshotId: 's9', reason: 'user' };
    const ctx = context([j]);
    applyLocalReclaimReport(ctx, 'site-a', report());
    expect(j.state).to.equal('SUSPENDED');
    expect(j.pendingOp).to.equal(undefined);
  });

  it('leaves alone, saying why: an unknown job, a job placed elsewhere, an ended one, a moving one (only its snapshot is cataloged)', () => {
    const moving = job('j4', 'RELOCATING');
    moving.pendingOp = { kind: 'move', snapshotId: 's1', reason: 'x', move: { from: { site: 'site-a', subnet: '', gateway: '', vms: [] }, to: { site: 'site-b', subnet: '', gateway: '', vms: [] }, wasRunning: true, phase: 'transfer' } };
    const ctx = context([job('j2', 'RUNNING', 'site-b'), job('j3', 'CANCELLED'), moving]);
    const out = applyLocalReclaimReport(ctx, 'site-a', report({
      suspended: ['j1', 'j2', 'j3', 'j4'].map((id) => ({ job: id, snapshot: snap(`l-${id}`, id), nodes: ['a1'], at: NOW.toISOString() })),
    }));
    expect(out.suspended).to.deep.equal([]);
    expect(out.ignored.map((i) => i.job)).to.deep.equal(['j1', 'j2', 'j3', 'j4']);
    expect(out.ignored[1]?.why).to.include('placed on site-b');
    expect(ctx.data.jobs.j2?.state).to.equal('RUNNING');
    expect(ctx.data.jobs.j4?.state).to.equal('RELOCATING');
    expect(Object.keys(ctx.data.snapshots)).to.deep.equal(['l-j4']);
  });

  it('a malformed suspension (no snapshot, another job\'s, a bad id) is refused', () => {
    const ctx = context([job('j1', 'RUNNING')]);
    const out = applyLocalReclaimReport(ctx, 'site-a', report({
      suspended: [
        { job: 'j1', snapshot: null, nodes: ['a1'], at: '' },
        { job: 'j1', snapshot: snap('l1', 'j9'), nodes: ['a1'], at: '' },
        { job: 'j1', snapshot: snap('../x', 'j1'), nodes: ['a1'], at: '' },
      ],
    }));
    expect(out.ignored).to.have.length(3);
    expect(ctx.data.jobs.j1?.state).to.equal('RUNNING');
    expect(ctx.data.snapshots).to.deep.equal({});
  });
});
