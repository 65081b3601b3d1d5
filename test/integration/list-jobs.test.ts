// `brine ls` with 6,000 ended jobs (issue 10.2): it used to fail (one answer over gRPC's 4 MiB);
// now ListJobs is paged, live jobs are shown by default, `--all`/`--state`/`--since` widen or
// filter it, and jobs ended longer ago than `jobs.keepEndedFor` are collected. Real coordinator
// process over a prepared archive, real CLI.
import { expect } from 'chai';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { TestGrid } from '../helpers/grid.js';
import type { Job } from '../../src/shared/proto.js';
import type { JobRecord } from '../../src/coordinator/store.js';

describe('brine ls over many ended jobs (paged ListJobs, retention)', function () {
  this.timeout(120_000);
  let grid: TestGrid;
  beforeEach(() => (grid = new TestGrid()));
  afterEach(async function () {
    await grid.close(this.currentTest?.state === 'failed');
  });
  const cli = (...args: string[]) => runCli(['--coordinator', grid.coordinator, ...args]);

  function ended(i: number, at: Date): JobRecord {
    const iso = at.toISOString();
    return {
      id: `jend${String(i).padStart(5, '0')}`, name: `done-${i}`, owner: 'someone', state: 'COMPLETED', site: 'site-a', pinnedSite: '', subnet: '10.150.0.0/29', gateway: '10.150.0.1',
      vms: [0, 1].map((v) => ({ name: `done-${i}-${v}`, node: 'a1', mac: `02:b1:10:00:00:0${v}`, ip: `10.150.0.${v + 2}`, state: 'DESTROYED', domain: '', console: '' })),
      vmCount: 2, cpus: 1, memoryMiB: 64, image: 'tiny', checkpointEvery: '30m', lastSnapshot: '', createdAt: iso,
      history: ['PENDING', 'DEPLOYING', 'RUNNING', 'COMPLETED'].map((state) => ({ at: iso, state: state as JobRecord['state'], reason: `${state.toLowerCase()}: `.padEnd(200, 'x') })),
      deployAttempts: 0,
    };
  }

  it('lists 6,000 ended jobs page by page, live ones by default, and collects the expired', async () => {
    const dir = join(grid.dir, 'coordinator');
    mkdirSync(dir, { recursive: true });
    const recent = new Date(Date.now() - 3600_000);
    const old = new Date(Date.now() - 30 * 86_400_000);
    const jobs: Record<string, JobRecord> = {};
    for (let i = 0; i < 6000; i++) jobs[`jend${String(i).padStart(5, '0')}`] = ended(i, recent);
    for (let i = 6000; i < 6003; i++) jobs[`jend${String(i).padStart(5, '0')}`] = ended(i, old);
    writeFileSync(join(dir, 'archive.json'), JSON.stringify({ version: 1, jobs }));
    await grid.startCoordinator();

    const live = await cli('ls');
    expect(live.code, live.stderr).to.equal(0);
    expect(live.stdout).to.include('no live jobs');

    const all = await cli('ls', '--all', '--json');
    expect(all.code, all.stderr).to.equal(0);
    const listed = all.json<Job[]>();
    expect(listed).to.have.length(6000); // the 3 ended 30 days ago are collected (keepEndedFor 7d)
    expect(listed.map((j) => j.id)).to.not.include('jend06000');
    expect(all.stdout.length).to.be.greaterThan(4 * 1024 * 1024);

    const table = await cli('ls', '--all');
    expect(table.code, table.stderr).to.equal(0);
    expect(table.stdout.trimEnd().split('\n')).to.have.length(6001);

    const completed = await cli('ls', '--state', 'completed', '--since', '2h', '--json');
    expect(completed.json<Job[]>()).to.have.length(6000);
    const none = await cli('ls', '--all', '--since', '10m', '--json');
    expect(none.json<Job[]>()).to.have.length(0);

    const bad = await cli('ls', '--state', 'DANCING');
    expect(bad.code).to.equal(2);
    expect(bad.stderr).to.include('DANCING');
    const badSince = await cli('ls', '--since', 'soon');
    expect(badSince.code).to.equal(2);
  });
});
