import { expect } from 'chai';
import { dueCheckpoints } from '../../src/coordinator/checkpoint-policy.js';
import { decideFailover } from '../../src/coordinator/failover.js';
import type { SiteCapacity } from '../../src/coordinator/scheduler.js';
import type { JobRecord } from '../../src/coordinator/store.js';
import type { Snapshot } from '../../src/shared/proto.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const job = (id: string, site: string, over: Partial<JobRecord> = {}): JobRecord => ({
  id,
  name: id,
  owner: 'alice',
  state: 'RUNNING',
  site,
  pinnedSite: '',
  subnet: '',
  gateway: '',
  vms: [{ name: `${id}-0`, node: 'n1', mac: '', ip: '', state: 'RUNNING', domain: '', console: '' }],
  vmCount: 1,
  cpus: 2,
  memoryMiB: 512,
  image: 'tiny',
  checkpointEvery: '10m',
  lastSnapshot: '',
  createdAt: new Date(T0).toISOString(),
  history: [{ at: new Date(T0).toISOString(), state: 'RUNNING', reason: 'running' }],
  deployAttempts: 0,
  ...over,
});
const snap = (id: string, sites: string[], over: Partial<Snapshot> = {}): Snapshot => ({
  id,
  job: 'j1',
  createdAt: new Date(T0).toISOString(),
  sites,
  vms: [],
  totalBytes: 1,
  newBytes: 1,
  pauseSkewMs: 0,
  downtimeMs: 0,
  damaged: false,
  kind: 'checkpoint',
  damagedSites: [],
  ...over,
});
const site = (name: string, cpus: number, up = true): SiteCapacity => ({
  name,
  up,
  images: ['tiny'],
  nodes: [{ name: `${name}-n1`, cpus, memoryMiB: 4096, usedCpus: 0, usedMemoryMiB: 0, schedulable: true, arch: 'x86_64', domainTypes: ['test'] }],
});

describe('failover decision (pure)', () => {
  const isUp = (s: string) => s !== 'site-a';

  it('moves to the site holding the newest intact copy elsewhere, even if another has more room', () => {
    const caps = new Map([
      ['site-b', site('site-b', 4)],
      ['site-c', site('site-c', 64)],
    ]);
    const d = decideFailover(job('j1', 'site-a'), T0, [snap('s1', ['site-a', 'site-c']), snap('s2', ['site-a', 'site-b']), snap('s3', ['site-a'])], caps, isUp);
    expect(d.kind).to.equal('move');
    if (d.kind !== 'move') return;
    expect(d.snapshot.id).to.equal('s2'); // s3 exists only on the dead site
    expect(d.to).to.equal('site-b');
    expect(d.reason).to.match(/^failover: site site-a is DOWN since 2026-01-01T00:00:00.000Z; from snapshot s2 .* its work since then is lost$/);
  });

  it('waits for its site when no intact copy is on an UP site, or when no site has room, saying why', () => {
    const caps = new Map([['site-b', site('site-b', 1)]]);
    const none = decideFailover(job('j1', 'site-a'), T0, [snap('s1', ['site-a']), snap('s2', ['site-b'], { damaged: true })], caps, isUp);
    expect(none).to.deep.equal({ kind: 'wait', reason: 'site site-a is DOWN since 2026-01-01T00:00:00.000Z; no snapshot of it is on another UP site: it carries on when site-a is back' });
    const full = decideFailover(job('j1', 'site-a'), T0, [snap('s1', ['site-a', 'site-b'])], caps, isUp);
    expect(full.kind).to.equal('wait');
    expect(full.kind === 'wait' && full.reason).to.match(/waiting for room elsewhere to resume it from snapshot s1: /);
  });
});

describe('periodic checkpoint policy (pure)', () => {
  it('checkpoints a job once its interval has passed since its last snapshot, one job per site at a time', () => {
    const snaps: Record<string, Snapshot> = { s1: snap('s1', ['site-a'], { createdAt: new Date(T0 + 5 * 60_000).toISOString() }) };
    const jobs = [job('j1', 'site-a'), job('j2', 'site-a'), job('j3', 'site-b', { lastSnapshot: 's1' }), job('j4', 'site-c', { state: 'SUSPENDED' })];
    const at = (min: number) =>
      dueCheckpoints({ now: T0 + min * 60_000, jobs, snapshot: (id) => snaps[id], inflight: new Set(), isUp: () => true }).map((j) => j.id);
    expect(at(9)).to.deep.equal([]);
    expect(at(10)).to.deep.equal(['j1']); // j2 waits for site-a's next turn
    expect(at(15)).to.deep.equal(['j1', 'j3']);
  });

  it('skips sites that are DOWN or busy with an operation, and jobs with a call in flight', () => {
    const jobs = [job('j1', 'site-a'), job('j2', 'site-b'), job('j3', 'site-b', { state: 'CHECKPOINTING', pendingOp: { kind: 'checkpoint', snapshotId: 's9', reason: '' } }), job('j4', 'site-c')];
    const due = dueCheckpoints({ now: T0 + 3_600_000, jobs, snapshot: () => undefined, inflight: new Set(['j4']), isUp: (s) => s !== 'site-a' });
    expect(due).to.deep.equal([]);
  });
});
