import { expect } from 'chai';
import { firstStep, nextPhase, planMove, type MovePlanInput } from '../../src/coordinator/move-steps.js';
import type { JobRecord } from '../../src/coordinator/store.js';
import type { Snapshot } from '../../src/shared/proto.js';

describe('move steps (pure)', () => {
  it('goes precopy → snapshot → transfer → restore → done, and back to the origin when the destination fails', () => {
    expect(nextPhase('precopy', 'ok')).to.equal('snapshot');
    expect(nextPhase('precopy', 'failed')).to.equal('snapshot'); // a failed pre-copy only costs time
    expect(nextPhase('snapshot', 'ok')).to.equal('transfer');
    expect(nextPhase('snapshot', 'failed')).to.equal('abandoned'); // VMs run on at the origin
    expect(nextPhase('transfer', 'ok')).to.equal('restore');
    expect(nextPhase('transfer', 'failed')).to.equal('rollback');
    expect(nextPhase('restore', 'ok')).to.equal('done');
    expect(nextPhase('restore', 'failed')).to.equal('rollback');
    expect(nextPhase('rollback', 'ok')).to.equal('rolled-back');
  });

  const job = (state: JobRecord['state']): JobRecord => ({
    id: 'j1',
    name: 'demo',
    owner: 'alice',
    state,
    site: 'site-a',
    pinnedSite: '',
    subnet: '10.10.0.0/29',
    gateway: '10.10.0.1',
    vms: [{ name: 'demo-0', node: 'a1', mac: '02:b1:10:00:00:01', ip: '10.10.0.2', state: 'RUNNING', domain: 'd0', console: 'c0' }],
    vmCount: 1,
    cpus: 1,
    memoryMiB: 128,
    image: 'tiny',
    checkpointEvery: '30m',
    lastSnapshot: '',
    createdAt: '2026-01-01T00:00:00.000Z',
    history: [],
    deployAttempts: 0,
  });
  const lease = { site: 'site-b', job: 'j1', subnet: '10.20.0.0/29', gateway: '10.20.0.1', state: 'reserved' as const, vms: [{ vm: 'demo-0', mac: '02:b1:11:00:00:01', ip: '10.20.0.2' }] };
  const snap = (sites: string[]): Snapshot => ({ id: 's1', job: 'j1', createdAt: '', sites, vms: [], totalBytes: 1, newBytes: 1, pauseSkewMs: 0, downtimeMs: 0, damaged: false, kind: 'checkpoint', damagedSites: [] });
  const input = (over: Partial<MovePlanInput>): MovePlanInput => ({
    job: job('RUNNING'),
    to: 'site-b',
    nodes: ['b1'],
    lease,
    latest: undefined,
    fromSnapshot: false,
    precopy: true,
    precopySnapshotId: 'p1',
    ...over,
  });

  it('pre-copies a running job unless the destination already holds its latest snapshot', () => {
    const m = planMove(input({}));
    expect(m.phase).to.equal('precopy');
    expect(m.precopySnapshotId).to.equal('p1');
    expect(m.wasRunning).to.equal(true);
    expect(m.to.vms).to.deep.equal([{ name: 'demo-0', node: 'b1', mac: '02:b1:11:00:00:01', ip: '10.20.0.2', state: 'PENDING', domain: '', console: '' }]);
    expect(m.from.vms[0]?.ip).to.equal('10.10.0.2');
    expect(firstStep(m, 's9')).to.match(/pre-copy checkpoint p1 .* final snapshot s9 on site-a/);

    const replica = planMove(input({ latest: snap(['site-a', 'site-b']) }));
    expect(replica.phase).to.equal('snapshot');
    expect(replica.precopySnapshotId).to.equal(undefined);
    expect(planMove(input({ precopy: false })).phase).to.equal('snapshot');
  });

  it('sends the snapshot straight away for a suspended job or a failover (no final snapshot)', () => {
    expect(planMove(input({ job: job('SUSPENDED') })).phase).to.equal('transfer');
    const failover = planMove(input({ fromSnapshot: true }));
    expect(failover.phase).to.equal('transfer');
    expect(failover.wasRunning).to.equal(true); // a rollback resumes it
    expect(firstStep(failover, 's1')).to.equal('sending snapshot s1');
  });
});
