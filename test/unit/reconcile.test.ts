import { expect } from 'chai';
import { planReconcile, type ReconcileInput } from '../../src/coordinator/reconcile.js';
import type { JobRecord } from '../../src/coordinator/store.js';
import type { ClusterStatus } from '../../src/shared/proto.js';

const job = (id: string, state: JobRecord['state'], over: Partial<JobRecord> = {}): JobRecord => ({
  id,
  name: id,
  owner: 'alice',
  state,
  site: 'site-a',
  pinnedSite: '',
  subnet: '',
  gateway: '',
  vms: [
    { name: `${id}-0`, node: 'a1', mac: '', ip: '', state: 'RUNNING', domain: '', console: '' },
    { name: `${id}-1`, node: 'a2', mac: '', ip: '', state: 'RUNNING', domain: '', console: '' },
  ],
  vmCount: 2,
  cpus: 1,
  memoryMiB: 128,
  image: 'tiny',
  checkpointEvery: '30m',
  lastSnapshot: '',
  createdAt: '',
  history: [],
  deployAttempts: 0,
  ...over,
});
const status = (id: string, ...states: string[]): ClusterStatus => ({
  jobId: id,
  network: '',
  networkXml: '',
  vms: states.map((s, i) => ({ name: `${id}-${i}`, node: '', domain: '', state: s, console: '' })),
});
const input = (over: Partial<ReconcileInput>): ReconcileInput => ({
  site: 'site-a',
  jobs: [],
  reported: [],
  partial: false,
  inflight: new Set(),
  settled: () => true,
  releasing: [],
  ...over,
});

describe('reconcile (pure diff of an agent view against the coordinator)', () => {
  it('completes a job whose VMs all shut down by themselves, and only copies states otherwise', () => {
    const actions = planReconcile(
      input({ jobs: [job('j1', 'RUNNING'), job('j2', 'RUNNING')], reported: [status('j1', 'SHUTOFF', 'SHUTOFF'), status('j2', 'SHUTOFF', 'RUNNING')] }),
    );
    expect(actions.map((a) => `${a.kind}:${a.job}`)).to.deep.equal(['complete:j1', 'status:j2']);
  });

  it('redeploys a RUNNING job the agent does not have, but never from a one-cluster report or an unsettled view', () => {
    const jobs = [job('j1', 'RUNNING')];
    expect(planReconcile(input({ jobs })).map((a) => a.kind)).to.deep.equal(['redeploy']);
    expect(planReconcile(input({ jobs, partial: true }))).to.deep.equal([]);
    // an operation just changed the cluster: a stale heartbeat showing it off must not end it
    const stale = planReconcile(input({ jobs, settled: () => false, reported: [status('j1', 'SHUTOFF', 'SHUTOFF')] }));
    expect(stale.map((a) => a.kind)).to.deep.equal(['status']);
    expect(planReconcile(input({ jobs, inflight: new Set(['j1']) }))).to.deep.equal([]);
  });

  it('re-issues interrupted operations and deploys, ignores other sites, and frees releasing leases the agent no longer has', () => {
    const actions = planReconcile(
      input({
        jobs: [
          job('j1', 'CHECKPOINTING', { pendingOp: { kind: 'checkpoint', snapshotId: 's1', reason: 'x' } }),
          job('j2', 'DEPLOYING'),
          job('j3', 'RUNNING', { site: 'site-b' }),
        ],
        reported: [status('j9', 'RUNNING')],
        releasing: ['j8', 'j9'],
      }),
    );
    expect(actions.map((a) => `${a.kind}:${a.job}`)).to.deep.equal(['rerun:j1', 'deploy:j2', 'release:j8']);
  });
});
