// A site that fails: its agent dies (kill -9) and stays away longer than `jobs.failoverAfter`. Its
// running jobs resume on another site from their latest replicated checkpoint, with fresh
// addresses; the dead site's leases stay `releasing` until it is back and shows the cluster gone,
// and the job is not run there again. Real coordinator and agents (test driver), the real CLI.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { agentStatus, TestGrid, waitFor } from '../helpers/grid.js';
import type { Job, Lease, Snapshot } from '../../src/shared/proto.js';

describe('failover: a site that stays DOWN loses its running jobs to other sites', function () {
  this.timeout(120_000);
  let grid: TestGrid;
  const cli = (...args: string[]) => runCli(['--coordinator', grid.coordinator, ...args]);
  const show = async (id: string): Promise<Job> => (await cli('show', id, '--json')).json<Job>();
  const submit = async (name: string, ...extra: string[]): Promise<Job> => {
    const r = await cli('submit', '--name', name, '--vms', '2', '--cpus', '1', '--memory', '64', '--image', 'tiny', '--site', 'site-a', '--wait', '--json', ...extra);
    expect(r.code, r.stderr).to.equal(0);
    return r.json<Job>();
  };

  beforeEach(async () => {
    grid = new TestGrid();
    await grid.startCoordinator({ heartbeatTimeout: '2s', extra: 'jobs:\n  failoverAfter: 3s\n' });
    await grid.startAgent({ name: 'site-a' });
    await grid.startAgent({ name: 'site-b' });
  });
  afterEach(async function () {
    await grid.close(this.currentTest?.state === 'failed');
  });

  it('resumes a job elsewhere from its replicated checkpoint; the dead site is fenced when it comes back', async () => {
    // its user-data comes from the coordinator's state, not from the dead site (issue 12)
    const userData = join(grid.dir, 'work.sh');
    writeFileSync(userData, '#!/bin/sh\necho survivor\n');
    const job = await submit('survivor', '--user-data', userData);
    const lonely = await submit('lonely'); // never checkpointed: nothing to resume it from elsewhere
    const snap = (await cli('snapshot', job.id, '--json')).json<Snapshot>();
    await waitFor('the checkpoint to be replicated to site-b', async () =>
      (await cli('snapshots', job.id, '--json')).json<Snapshot[]>().find((s) => s.id === snap.id && s.sites.includes('site-b')),
    );

    await grid.kill('site-a', 'SIGKILL');
    const moved = await waitFor('the job to run on site-b', async () => {
      const j = await show(job.id);
      return j.state === 'RUNNING' && j.site === 'site-b' && j;
    }, 30_000, 250);
    const reasons = moved.history.map((h) => `${h.state} ${h.reason}`).join('\n');
    expect(reasons).to.match(new RegExp(`RELOCATING moving from site-a to site-b \\(failover: site site-a is DOWN since [^;]+; from snapshot ${snap.id} of [^,]+, its work since then is lost\\): sending snapshot ${snap.id}`));
    expect(moved.history.map((h) => h.state).slice(-3)).to.deep.equal(['RELOCATING', 'RESUMING', 'RUNNING']);
    expect(moved.subnet.startsWith('10.151.'), `a subnet of site-b's pool, got ${moved.subnet}`).to.equal(true);
    expect(moved.subnet).to.not.equal(job.subnet);
    const atB = (await agentStatus(grid.sitePorts.get('site-b') as number)).find((c) => c.jobId === job.id);
    expect(atB?.vms.map((v) => v.state)).to.deep.equal(['RUNNING', 'RUNNING']);
    for (const vm of moved.vms) {
      const seed = join(grid.siteDataDir('site-b'), 'seeds', `brine-${job.id}-${vm.name}.iso`);
      expect(execFileSync('isoinfo', ['-i', seed, '-R', '-x', '/user-data']).toString()).to.equal('#!/bin/sh\necho survivor\n');
    }

    // the job without a copy elsewhere waits for its site, and says so
    const waiting = await waitFor('lonely to say why it stays', async () => {
      const j = await show(lonely.id);
      return /no snapshot of it is on another UP site: it carries on when site-a is back/.test(j.history.at(-1)?.reason ?? '') && j;
    });
    expect(waiting).to.deep.include({ state: 'RUNNING', site: 'site-a' });

    // site-a's addresses of the moved job are not free while site-a may still run its VMs
    const leases = (await cli('addresses', '--json')).json<Lease[]>().filter((l) => l.job === job.id);
    expect(leases.filter((l) => l.site === 'site-a').map((l) => l.state)).to.deep.equal(['releasing', 'releasing']);
    expect(leases.filter((l) => l.site === 'site-b').map((l) => l.state)).to.deep.equal(['active', 'active']);

    // site-a comes back: the moved job is not run there again, and its old addresses are freed
    await grid.startAgent({ name: 'site-a' });
    await waitFor('site-a leases of the moved job to be freed', async () =>
      (await cli('addresses', '--json')).json<Lease[]>().filter((l) => l.job === job.id).every((l) => l.site === 'site-b'),
    );
    await new Promise((r) => setTimeout(r, 1500)); // a few heartbeats: nothing redeploys it at site-a
    expect((await agentStatus(grid.sitePorts.get('site-a') as number)).map((c) => c.jobId)).to.not.include(job.id);
    expect(await show(job.id)).to.deep.include({ state: 'RUNNING', site: 'site-b' });
    // the job that waited runs at its site again (its VMs were redeployed there: the test driver forgot them)
    await waitFor('lonely to run on site-a again', async () => (await show(lonely.id)).state === 'RUNNING');
  });
});
